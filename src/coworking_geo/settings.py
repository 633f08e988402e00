"""Rules between configuration values that a JSON schema cannot express, checked when the workflow loads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coworking_geo.errors import ConfigError


def check_cross_fields(config: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` naming the keys when two settings contradict each other."""
    ind = config["indicators"]
    radii = [float(r) for r in ind["access_radii_km"]]
    radius = float(ind["summary_radius_km"])
    if radius not in radii:
        raise ConfigError(
            f"indicators.summary_radius_km = {ind['summary_radius_km']} must be one of indicators.access_radii_km "
            f"{list(ind['access_radii_km'])}: the summaries read the population within that radius"
        )
    typ = config["typology"]
    if int(typ["k_min"]) > int(typ["k_max"]):
        raise ConfigError(f"typology.k_min = {typ['k_min']} is larger than typology.k_max = {typ['k_max']}")
