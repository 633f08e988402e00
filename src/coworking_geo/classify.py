"""Commune classifications: the 3-level density class and the 5-class ``territory_class`` rule.

The rule (thresholds from ``config.yaml → territories.classification``) is
applied in order; the first that matches wins:

1. ``metropole``: the commune belongs to a metropolis (EPCI nature ME or METLYON).
2. ``ville_moyenne``: an Action Cœur de Ville commune, or a commune in the pôle
   (CATEAAV2020 in ``pole_categories``) of an AAV of ``large_aav_min_population``
   inhabitants or more.
3. ``petite_ville``: a Petites villes de demain commune, a commune in the pôle of
   a smaller AAV, or a commune whose INSEE density level is in
   ``small_town_density_levels``.
4. ``periurbain``: in the couronne (CATEAAV2020 in ``couronne_categories``) of an
   AAV of ``large_aav_min_population`` or more.
5. ``rural``: everything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

TERRITORY_CLASSES = ["metropole", "ville_moyenne", "petite_ville", "periurbain", "rural"]
DENSITY_CLASSES = ["dense", "intermediate", "rural"]
METROPOLIS_NATURES = ("ME", "METLYON")
# TAAV2017 size classes: 1 < 50k, 2 50–200k, 3 200–700k, 4 ≥ 700k (outside Paris), 5 Paris.
AAV_SIZE_CLASS_MIN = {50000: 2, 200000: 3, 700000: 4}


def density_class(level: pd.Series) -> pd.Series:
    """INSEE density level 1–7 → dense (1), intermediate (2–4), rural (5–7); NA stays NA."""
    lv = pd.to_numeric(level, errors="coerce")
    out = pd.Series(pd.NA, index=level.index, dtype="string")
    for label, cond in (("dense", lv.eq(1)), ("intermediate", lv.between(2, 4)), ("rural", lv.between(5, 7))):
        out = out.mask(cond.fillna(False).astype(bool), label)
    return out


def is_metropolis(epci_nature: pd.Series) -> pd.Series:
    """True for communes of one of the 22 metropolises (EPCI nature ME or METLYON)."""
    return epci_nature.isin(METROPOLIS_NATURES).fillna(False).astype(bool)


def territory_class(df: pd.DataFrame, rules: Mapping[str, Any]) -> pd.Series:
    """Apply the ordered rule to a communes frame; never NA.

    Needs columns metropolis, acv, pvd (bool), aav_category, aav_size_class,
    density_level (nullable ints). ``rules`` is ``territories.classification``.
    """
    min_size = AAV_SIZE_CLASS_MIN[int(rules["large_aav_min_population"])]
    cat = pd.to_numeric(df["aav_category"], errors="coerce")
    size = pd.to_numeric(df["aav_size_class"], errors="coerce")
    dens = pd.to_numeric(df["density_level"], errors="coerce")
    large = size.ge(min_size).fillna(False)
    pole = cat.isin(list(rules["pole_categories"])).fillna(False)
    couronne = cat.isin(list(rules["couronne_categories"])).fillna(False)
    small_dens = dens.isin(list(rules["small_town_density_levels"])).fillna(False)
    conditions = [
        df["metropolis"].fillna(False).astype(bool).to_numpy(),
        (df["acv"].fillna(False).astype(bool) | (pole & large)).to_numpy(),
        (df["pvd"].fillna(False).astype(bool) | (pole & ~large) | small_dens).to_numpy(),
        (couronne & large).to_numpy(),
    ]
    values = np.select(conditions, TERRITORY_CLASSES[:4], default=TERRITORY_CLASSES[4])
    return pd.Series(values, index=df.index, dtype="string")
