"""Commune classifications on INSEE's two official axes: the density grid and the AAV 2020 zoning.

``territory_class`` (thresholds from ``config.yaml → territories.classification``;
the rule and its sources are in docs/territories.md):

* **Rural** is INSEE's 2021 definition: a commune of density level 5, 6 or 7
  (bourgs ruraux, rural à habitat dispersé, très dispersé). Its sub-type follows
  INSEE's reading by the influence of a pôle (AAV 2020):

  - ``rural_sous_influence``: in the couronne of an AAV (15 % or more of its
    employed residents work in the pôle);
  - ``rural_autonome_peu_dense`` / ``rural_autonome_tres_peu_dense``: outside
    any couronne (outside the AAVs, or itself a rural commune of a pôle), of
    density level 5 / of level 6–7.

* **Urban** communes (levels 1–4), first match wins:

  1. ``metropole``: in the pôle (CATEAAV2020 11, 12) of an AAV of 200,000
     inhabitants or more (TAAV2017 ≥ 3);
  2. ``periurbain``: in the couronne of an AAV, or of density level 4 (ceintures
     urbaines);
  3. ``ville_moyenne``: any other urban commune of 10,000 inhabitants or more;
  4. ``petite_ville``: the other urban communes.

* ``unknown``: no density level, or an urban commune with no AAV row / category;
  ``rural_influence_inconnue``: a rural commune with no AAV category (rural is
  known, its sub-type is not). Never a default class.

The mission's own notions stay separate columns: ``metropolis`` (one of the 22
metropolis EPCIs) and the ANCT programme flags.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

URBAN_CLASSES = ["metropole", "ville_moyenne", "petite_ville", "periurbain"]
RURAL_CLASSES = ["rural_sous_influence", "rural_autonome_peu_dense", "rural_autonome_tres_peu_dense",
                 "rural_influence_inconnue"]
#: classes given where an input is missing (counted against ``max_unknown_share``)
INCOMPLETE_CLASSES = ("rural_influence_inconnue", "unknown")
#: every value of ``territory_class`` in reading order, ``unknown`` last
TERRITORY_CLASSES = [*URBAN_CLASSES, *RURAL_CLASSES, "unknown"]
DENSITY_CLASSES = ["dense", "intermediate", "rural"]
#: INSEE density levels (grille communale de densité, 7 niveaux) that are rural (INSEE 2021)
RURAL_DENSITY_LEVELS = (5, 6, 7)
METROPOLIS_NATURES = ("ME", "METLYON")
# TAAV2017 size classes: 0 outside, 1 < 50k, 2 50–200k, 3 200–700k, 4 ≥ 700k (outside Paris), 5 Paris.
AAV_SIZE_CLASS_MIN = {50000: 2, 200000: 3, 700000: 4}


def density_class(level: pd.Series) -> pd.Series:
    """INSEE density level 1–7 → dense (1), intermediate (2–4), rural (5–7); NA stays NA."""
    lv = pd.to_numeric(level, errors="coerce")
    out = pd.Series(pd.NA, index=level.index, dtype="string")
    for label, cond in (("dense", lv.eq(1)), ("intermediate", lv.between(2, 4)), ("rural", lv.between(5, 7))):
        out = out.mask(cond.fillna(False).astype(bool), label)
    return out


def is_rural(level: pd.Series) -> pd.Series:
    """INSEE's 2021 rural commune: density level 5, 6 or 7 (False where the level is unknown)."""
    return pd.to_numeric(level, errors="coerce").isin(RURAL_DENSITY_LEVELS).fillna(False).astype(bool)


def in_metropolis(epci_nature: pd.Series) -> pd.Series:
    """True for communes of one of the 22 metropolises (EPCI nature ME or METLYON)."""
    return epci_nature.isin(METROPOLIS_NATURES).fillna(False).astype(bool)


def territory_class(df: pd.DataFrame, rules: Mapping[str, Any]) -> pd.Series:
    """The class of each commune (values of :data:`TERRITORY_CLASSES`), ``unknown`` where an input is missing.

    Needs columns ``density_level``, ``aav_category``, ``aav_size_class`` (nullable
    ints) and ``population``. ``rules`` is ``territories.classification``.
    """
    min_size = AAV_SIZE_CLASS_MIN[int(rules["metropole_aav_min_population"])]
    cat = pd.to_numeric(df["aav_category"], errors="coerce")
    size = pd.to_numeric(df["aav_size_class"], errors="coerce")
    dens = pd.to_numeric(df["density_level"], errors="coerce")
    pop = pd.to_numeric(df["population"], errors="coerce").fillna(0)
    rural = dens.isin(list(rules["rural_density_levels"])).fillna(False).to_numpy(dtype=bool)
    has_aav = cat.notna().to_numpy(dtype=bool)
    known = dens.between(1, 7).fillna(False).to_numpy(dtype=bool) & (has_aav | rural)
    pole = cat.isin(list(rules["pole_categories"])).fillna(False).to_numpy(dtype=bool)
    couronne = cat.isin(list(rules["couronne_categories"])).fillna(False).to_numpy(dtype=bool)
    large = size.ge(min_size).fillna(False).to_numpy(dtype=bool)
    belt = dens.isin(list(rules["suburb_density_levels"])).fillna(False).to_numpy(dtype=bool)
    sparse = dens.isin(list(rules["very_sparse_density_levels"])).fillna(False).to_numpy(dtype=bool)
    medium = (pop >= int(rules["medium_city_min_population"])).to_numpy(dtype=bool)
    urban = known & ~rural
    conditions = [
        ~known,
        urban & pole & large,
        urban & (couronne | belt),
        urban & medium,
        urban,
        rural & ~has_aav,
        rural & couronne,
        rural & ~sparse,
    ]
    choices = ["unknown", "metropole", "periurbain", "ville_moyenne", "petite_ville",
               "rural_influence_inconnue", "rural_sous_influence", "rural_autonome_peu_dense"]
    values = np.select(conditions, choices, default="rural_autonome_tres_peu_dense")
    return pd.Series(values, index=df.index, dtype="string")


def unknown_class_share(communes: pd.DataFrame) -> tuple[float, float]:
    """Share (0–1) of communes and of population classed with a missing input (:data:`INCOMPLETE_CLASSES`)."""
    unknown = communes["territory_class"].isin(INCOMPLETE_CLASSES).fillna(True).to_numpy(dtype=bool)
    pop = pd.to_numeric(communes["population"], errors="coerce").fillna(0).to_numpy()
    n = max(len(communes), 1)
    return float(unknown.sum() / n), float(pop[unknown].sum() / max(pop.sum(), 1))


def territory_class_vs_official(communes: pd.DataFrame, ruralite: pd.Series | None = None) -> pd.DataFrame:
    """Communes and population per cell of our class × INSEE density level, and × ANCT's ruralité typology.

    ``ruralite`` maps commune code → ANCT typology label (``niveau_ruralite``);
    long format: ``reference`` (``insee_density_level`` or ``anct_ruralite``),
    ``official`` (the reference's value), ``territory_class``, ``communes``,
    ``population``, ``agreement`` (``yes`` / ``no``: our rural or urban side equals
    the reference's; ``not comparable`` where the reference is absent, has changed
    perimeter or, for ANCT, leaves the overseas communes out of its field).
    """
    cls = communes["territory_class"].astype("string")
    rural_ours = cls.isin(RURAL_CLASSES)
    def agreement(ref_rural: pd.Series, comparable: pd.Series) -> np.ndarray:
        same = (ref_rural.fillna(False).astype(bool) == rural_ours).to_numpy()
        return np.where(~comparable.fillna(False).to_numpy(dtype=bool), "not comparable", np.where(same, "yes", "no"))

    level = pd.to_numeric(communes["density_level"], errors="coerce").astype("Int64")
    frames = [pd.DataFrame({
        "reference": "insee_density_level", "official": level.astype("string").fillna("(absent)"),
        "territory_class": cls, "population": communes["population"],
        "agreement": agreement(level.isin(RURAL_DENSITY_LEVELS), level.notna()),
    })]
    if ruralite is not None:
        lab = communes["insee_code"].map(ruralite).astype("string").str.strip()
        overseas = communes["dep_code"].astype("string").str.startswith("97").fillna(False)
        comparable = lab.notna() & ~lab.str.startswith("Commune dont le périmètre").fillna(False) & ~overseas
        frames.append(pd.DataFrame({
            "reference": "anct_ruralite", "official": lab.fillna("(absent)"), "territory_class": cls,
            "population": communes["population"],
            "agreement": agreement(~lab.str.startswith("Hors champ").fillna(True), comparable),
        }))
    long = pd.concat(frames, ignore_index=True)
    out = (long.groupby(["reference", "official", "territory_class", "agreement"], dropna=False)
           .agg(communes=("population", "size"), population=("population", "sum"))
           .reset_index())
    order = {c: i for i, c in enumerate(TERRITORY_CLASSES)}
    out["_o"] = out["territory_class"].map(order)
    return out.sort_values(["reference", "official", "_o"]).drop(columns="_o").reset_index(drop=True)
