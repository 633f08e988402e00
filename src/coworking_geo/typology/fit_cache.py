"""Fits of one k kept between runs, so that a change of the k range refits only the k not fitted yet.

A fit (the canonical labels and scores of one k) and a resampling (the bootstrap table of one k) are pure
functions of the scaled features, the method, k and the settings. Each is stored under the SHA-256 of all
of those and of what computes them (the source of :mod:`coworking_geo.typology.clustering` and the
versions of numpy, scipy, scikit-learn and kmedoids): a stored result is only read back where computing it
again would give the same numbers. The rules keep them in ``data/processed/{territory}/cache/clustering/``
(delete the folder to refit everything); after ``typology.k_max`` 8 → 7 the clustering rules of France
refit nothing (issue 19).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coworking_geo.io import atomic_path

#: columns of a bootstrap table (one row per resample; see clustering.bootstrap_stability)
BOOT_COLUMNS = ["resample", "n_points", "ari", "min_jaccard"]


@cache
def _code_version() -> str:
    """What a stored fit depends on besides its inputs: the clustering code and the libraries' versions."""
    from coworking_geo.typology import clustering

    h = hashlib.sha256(Path(clustering.__file__).read_bytes())
    h.update(json.dumps({lib: version(lib) for lib in ("numpy", "scipy", "scikit-learn", "kmedoids")}).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class FitCache:
    """Stored fits and resamplings in ``folder`` (``fit-<key>.npz``, ``boot-<key>.npz``)."""

    folder: Path

    def key(self, X: np.ndarray, **settings: Any) -> str:
        """SHA-256 of the features ``X`` (shape, dtype and bytes), the ``settings`` and the code version."""
        X = np.ascontiguousarray(X)
        h = hashlib.sha256(json.dumps([X.shape, str(X.dtype), settings, _code_version()], sort_keys=True).encode())
        h.update(X.tobytes())
        return h.hexdigest()

    def load_fit(self, key: str) -> tuple[np.ndarray, dict[str, float]] | None:
        """Labels and score row of a stored fit, or None."""
        path = self.folder / f"fit-{key}.npz"
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as z:
            return z["labels"].copy(), dict(zip(z["names"].tolist(), z["values"].tolist(), strict=True))

    def save_fit(self, key: str, labels: np.ndarray, row: dict[str, float]) -> None:
        with atomic_path(self.folder / f"fit-{key}.npz") as tmp, tmp.open("wb") as fh:
            np.savez(fh, labels=np.asarray(labels), names=np.array(list(row), dtype=str),
                     values=np.array(list(row.values()), dtype="float64"))

    def load_boot(self, key: str) -> pd.DataFrame | None:
        """The bootstrap table of a stored resampling, or None."""
        path = self.folder / f"boot-{key}.npz"
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as z:
            table = pd.DataFrame(z["table"], columns=BOOT_COLUMNS)
        return table.astype({"resample": int, "n_points": int})

    def save_boot(self, key: str, boot: pd.DataFrame) -> None:
        with atomic_path(self.folder / f"boot-{key}.npz") as tmp, tmp.open("wb") as fh:
            np.savez(fh, table=boot[BOOT_COLUMNS].to_numpy(dtype="float64"))
