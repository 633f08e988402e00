"""Parse the ``territory`` setting and select the matching communes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from coworking_geo.errors import ConfigError

if TYPE_CHECKING:  # the Snakefile parses territories: pandas is imported only when communes are selected
    import pandas as pd

TERRITORY_RE = re.compile(r"^(demo|france|metropole|reg-\d{2}|dep-(?:\d{2}|2[AB]|97[1-6]))$")


@dataclass(frozen=True)
class Territory:
    """A territory to diagnose: ``kind`` is demo, france, metropole, reg or dep."""

    spec: str
    kind: str
    code: str | None = None

    @property
    def is_demo(self) -> bool:
        return self.kind == "demo"

    def select(self, dep_code: pd.Series, reg_code: pd.Series) -> pd.Series:
        """Boolean mask of communes in the territory, from their département and région codes."""
        import pandas as pd

        if self.kind in ("demo", "france"):
            return pd.Series(True, index=dep_code.index)
        if self.kind == "metropole":
            return ~dep_code.astype(str).str.startswith("97")
        if self.kind == "reg":
            return reg_code.astype(str).eq(str(self.code))
        return dep_code.astype(str).eq(str(self.code))


def parse_territory(spec: str) -> Territory:
    """'dep-61' → Territory('dep-61', 'dep', '61'). Raises ConfigError on an unknown form."""
    spec = str(spec).strip()
    if not TERRITORY_RE.match(spec):
        raise ConfigError(
            f"territory '{spec}' is not one of demo, france, metropole, reg-NN (e.g. reg-11) "
            "or dep-NN (e.g. dep-61, dep-2A, dep-974)"
        )
    if "-" in spec:
        kind, code = spec.split("-", 1)
        return Territory(spec, kind, code)
    return Territory(spec, spec)
