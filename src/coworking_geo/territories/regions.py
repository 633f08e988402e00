"""Partition of the per-commune work by région (COG 2024), so a cluster can run the régions in parallel.

The région list must be known when Snakemake builds its graph, before any
table exists: for the real territories it comes from the static COG 2024
table below (a département → its région; ``reg-NN`` → itself; ``metropole`` →
the 13 metropolitan régions; ``france`` → all 18); for the synthetic demo from
the generator's région codes (a superset: a code the generator did not use
gives an empty partition). Every commune of the territory must fall in exactly
one partition: :func:`coworking_geo.territories.partition.check_partition` raises otherwise, so no row
is lost. This module is read when Snakemake parses the workflow: it imports no table library.
"""

from __future__ import annotations

from coworking_geo.territories.territory import Territory

# COG 2024: région code → its départements.
REGION_DEPARTEMENTS: dict[str, tuple[str, ...]] = {
    "01": ("971",), "02": ("972",), "03": ("973",), "04": ("974",), "06": ("976",),
    "11": ("75", "77", "78", "91", "92", "93", "94", "95"),
    "24": ("18", "28", "36", "37", "41", "45"),
    "27": ("21", "25", "39", "58", "70", "71", "89", "90"),
    "28": ("14", "27", "50", "61", "76"),
    "32": ("02", "59", "60", "62", "80"),
    "44": ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88"),
    "52": ("44", "49", "53", "72", "85"),
    "53": ("22", "29", "35", "56"),
    "75": ("16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"),
    "76": ("09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"),
    "84": ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"),
    "93": ("04", "05", "06", "13", "83", "84"),
    "94": ("2A", "2B"),
}
OVERSEAS_REGIONS = ("01", "02", "03", "04", "06")
METRO_REGIONS = tuple(r for r in REGION_DEPARTEMENTS if r not in OVERSEAS_REGIONS)
REGION_OF_DEP: dict[str, str] = {d: r for r, deps in REGION_DEPARTEMENTS.items() for d in deps}
# The one part of an unpartitioned run (config ``indicators.partition: none``): every commune of the territory.
ALL_REGIONS = "all"


def demo_region_codes(n_communes: int) -> list[str]:
    """Région codes the demo generator can use for ``n_communes`` (a superset: unused codes give empty partitions)."""
    from coworking_geo.demo.model import BIG_REG_CODES, REG_CODE, SMALL_MAX

    return [REG_CODE] if int(n_communes) <= SMALL_MAX else list(BIG_REG_CODES)


def territory_regions(territory: Territory, demo_n_communes: int | None = None) -> list[str]:
    """Région codes (2 characters) partitioning ``territory``'s communes, known before any table is built."""
    if territory.is_demo:
        return demo_region_codes(demo_n_communes or 300)
    if territory.kind == "france":
        return list(REGION_DEPARTEMENTS)
    if territory.kind == "metropole":
        return list(METRO_REGIONS)
    if territory.kind == "reg":
        return [territory.code] if territory.code in REGION_DEPARTEMENTS else []
    return [REGION_OF_DEP[territory.code]] if territory.code in REGION_OF_DEP else []


def region_departements(reg: str, territory: Territory) -> tuple[str, ...] | None:
    """Départements of région ``reg`` (None for the demo, whose départements are generated: treat as any)."""
    if territory.is_demo:
        return None
    return REGION_DEPARTEMENTS.get(reg, ())
