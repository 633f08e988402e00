"""Residence départements each commuting source covers (read by the Snakefile to pick the sources of a
territory, and by the commuting indicators to mark communes outside every source as not covered)."""

from __future__ import annotations

IDF_DEPS = ("75", "77", "78", "91", "92", "93", "94", "95")
#: source id -> residence départements it covers (None: the whole country)
SOURCE_COVERAGE: dict[str, tuple[str, ...] | None] = {
    "insee_mobpro_national": None,
    "insee_mobpro_idf_rp2014": IDF_DEPS,
    "insee_mobpro_orne": ("61",),
}
