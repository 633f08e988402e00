"""Build a mirror from the official URLs: fetch once, run offline after.

``build_mirror`` downloads every source whose files all have an official
download (converted into the mirror's layout where needed) into
``mirror_dir/{source_id}/``, each folder with its ``MANIFEST.json`` (URL,
retrieval date, size and SHA-256 per file), and writes ``MIRROR.json``, the
list of what it holds and what it left out. Point ``COWORKING_GEO_MIRROR`` at
that folder afterwards. Files already present are kept, so an interrupted
build resumes where it stopped.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from coworking_geo.errors import CoworkingGeoError, RetrieveError
from coworking_geo.io import write_text
from coworking_geo.log import get_logger
from coworking_geo.sources.retrieve import retrieve_source
from coworking_geo.sources.catalogue import Source

log = get_logger(__name__)


def downloadable(source: Source) -> bool:
    """True when every file of ``source`` has an official download (no mirror-only copy)."""
    return all(f.url and not f.mirror_only for f in source.files)


def build_mirror(sources: Mapping[str, Source], mirror_dir: str | os.PathLike[str],
                 ids: Iterable[str] | None = None) -> Path:
    """Fetch the official publications of ``ids`` (default: every downloadable source) into ``mirror_dir``.

    Every source is tried; if some fail, one :class:`RetrieveError` names them all with their reasons.
    """
    root = Path(mirror_dir)
    wanted = list(ids) if ids is not None else list(sources)
    skipped = {sid: "no official download in the mirror's layout" for sid in wanted if not downloadable(sources[sid])}
    done: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for sid in wanted:
        if sid in skipped:
            log.info("mirror: %s skipped (%s)", sid, skipped[sid])
            continue
        try:
            manifest = retrieve_source(sources[sid], root, mirror=None)
            done[sid] = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        except (CoworkingGeoError, OSError) as exc:
            failed[sid] = str(exc).splitlines()[0]
            log.error("mirror: %s failed: %s", sid, failed[sid])
    if failed:
        raise RetrieveError(f"mirror {root}: {len(failed)} source(s) failed, {len(done)} fetched:\n"
                            + "\n".join(f"  - {sid}: {why}" for sid, why in failed.items()))
    summary = {"built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
               "sources": done, "skipped": skipped}
    return write_text(root / "MIRROR.json", json.dumps(summary, ensure_ascii=False, indent=2))
