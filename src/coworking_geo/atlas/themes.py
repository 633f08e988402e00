"""What each atlas map shows: per-commune values, classes, colours and legend.

A :class:`ThemeLayer` is shared by the folium maps and the static PNG maps so
that both draw the same classes with the same colours. Shares are fractions
0–1 in the tables and shown as percentages; distances are kilometres.
Labels are in French, as read by the maps' users.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import to_hex

from coworking_geo.territories import classify as classification
from coworking_geo.indicators.columns import SCORE_COL
from coworking_geo.labels import TERRITORY_CLASS_FR
from coworking_geo.spaces.titles import places_title

MISSING_COLOUR = "#d9d9d9"
MISSING_LABEL = "Non disponible"
NBSP = "\u202f"  # narrow no-break space: French thousands separator and before %

#: the residual rural class (a few communes) is teal so that it cannot be read as "rural sous influence"
CLASS_COLOURS = {"metropole": "#7b3294", "ville_moyenne": "#c2a5cf", "petite_ville": "#fdb863",
                 "periurbain": "#f1e6a6", "rural_sous_influence": "#a6dba0", "rural_autonome_peu_dense": "#4dac26",
                 "rural_autonome_tres_peu_dense": "#1b7837", "rural_influence_inconnue": "#80cdc1", "unknown": MISSING_COLOUR}
#: territory class → (French label, colour), in the classification's order
TERRITORY_CLASSES: dict[str, tuple[str, str]] = {
    c: (TERRITORY_CLASS_FR[c], CLASS_COLOURS[c]) for c in classification.TERRITORY_CLASSES}


@dataclass(frozen=True)
class LegendItem:
    """One legend entry: a fill colour, its label and, for markers, a shape (pt, dia, sq; '' = default)."""

    colour: str
    label: str
    shape: str = ""


@dataclass
class ThemeLayer:
    """Per-commune colours and formatted values of one map theme.

    ``colours`` and ``labels`` are indexed by ``insee_code``; communes absent
    from ``colours`` are not drawn on the map.
    """

    key: str
    title: str
    value_label: str
    legend_title: str
    colours: pd.Series
    labels: pd.Series
    legend: list[LegendItem]
    source_themes: tuple[str, ...] = ("territories",)
    note: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def fr_number(x: float | int | None, decimals: int = 0) -> str:
    """French number: '1 463', '29,8'; '' for a missing value."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return ""
    s = f"{float(x):,.{decimals}f}"
    return s.replace(",", NBSP).replace(".", ",")


def fr_percent(share: float | None, decimals: int = 1) -> str:
    """A 0–1 share as a French percentage: 0.298 → '29,8 %'."""
    s = fr_number(None if share is None or pd.isna(share) else share * 100, decimals)
    return f"{s}{NBSP}%" if s else ""


def palette(name: str, n: int) -> list[str]:
    """``n`` hex colours sampled evenly from a matplotlib colormap."""
    cmap = colormaps[name]
    if n == 1:
        return [to_hex(cmap(0.7))]
    return [to_hex(cmap(0.15 + 0.8 * i / (n - 1))) for i in range(n)]


def qualitative(n: int) -> list[str]:
    """``n`` distinct colours (tab10, then tab20)."""
    base = [to_hex(colormaps["tab10"](i)) for i in range(10)]
    extra = [to_hex(colormaps["tab20"](i)) for i in range(1, 20, 2)]
    cols = base + extra
    return [cols[i % len(cols)] for i in range(n)]


def classify(values: pd.Series, edges: list[float], labels: list[str], cmap: str) -> tuple[pd.Series, list[LegendItem]]:
    """Colour numeric ``values`` by class: ``edges`` are the class limits (len(labels)+1).

    Values outside the limits go to the first or last class; missing values
    get :data:`MISSING_COLOUR`. Returns the colours and the legend.
    """
    if len(edges) != len(labels) + 1:
        raise ValueError("classify: need one more edge than labels")
    colours = palette(cmap, len(labels))
    v = pd.to_numeric(values, errors="coerce").astype("float64")
    inner = np.asarray(edges[1:-1], dtype="float64")
    idx = np.searchsorted(inner, v.to_numpy(), side="right")
    out = pd.Series(np.asarray(colours, dtype=object)[idx], index=values.index, dtype=object)
    out[v.isna()] = MISSING_COLOUR
    legend = [LegendItem(c, lab) for c, lab in zip(colours, labels, strict=True)]
    if v.isna().any():
        legend.append(LegendItem(MISSING_COLOUR, MISSING_LABEL))
    return out, legend


def categorical(values: pd.Series, spec: dict[str, tuple[str, str]]) -> tuple[pd.Series, pd.Series, list[LegendItem]]:
    """Colour categories from ``spec`` (code → (label, colour)); unknown or missing → grey.

    Returns colours, French labels and the legend (present categories only).
    """
    v = values.astype("string")
    colours = v.map({k: c for k, (_, c) in spec.items()}).astype(object).fillna(MISSING_COLOUR)
    labels = v.map({k: lab for k, (lab, _) in spec.items()}).astype(object).fillna(MISSING_LABEL)
    present = set(v.dropna().unique())
    legend = [LegendItem(c, lab) for k, (lab, c) in spec.items() if k in present]
    if (colours == MISSING_COLOUR).any():
        legend.append(LegendItem(MISSING_COLOUR, MISSING_LABEL))
    return colours, labels, legend


def _fmt(values: pd.Series, fn: Callable[[Any], str | None]) -> pd.Series:
    return values.map(lambda x: fn(x) or MISSING_LABEL).astype(object)


def _by_code(communes: pd.DataFrame, table: pd.DataFrame, col: str) -> pd.Series:
    """``table[col]`` aligned on the communes' ``insee_code`` (NaN where absent)."""
    s = table.drop_duplicates("insee_code").set_index("insee_code")[col]
    return communes["insee_code"].map(s).set_axis(communes["insee_code"].values)


def fibre_columns(indicators: pd.DataFrame) -> list[str]:
    """The ``ftth_share_{vintage}`` columns, oldest first (table order)."""
    return [c for c in indicators.columns
            if c.startswith("ftth_share_") and c != "ftth_share_change" and not c.startswith("ftth_share_over_100")]


def vintage_label(col: str) -> str:
    """'ftth_share_2018t1' → '2018 T1'; 'ftth_share_latest' → 'dernier trimestre'."""
    v = col.removeprefix("ftth_share_")
    if v == "latest":
        return "dernier trimestre"
    return re.sub(r"^(\d{4})[tT](\d)$", r"\1 T\2", v)


def territory_class_layer(communes: pd.DataFrame) -> ThemeLayer:
    """Territory class of each commune (metropole … rural)."""
    idx = communes["insee_code"].values
    colours, labels, legend = categorical(communes["territory_class"].set_axis(idx), TERRITORY_CLASSES)
    counts = communes["territory_class"].value_counts().to_dict()
    return ThemeLayer("territory_class", "Classes de territoire", "Classe", "Classe de territoire",
                      colours, labels, legend, ("territories",), counts={str(k): int(v) for k, v in counts.items()})


def fibre_share_layer(communes: pd.DataFrame, indicators: pd.DataFrame) -> ThemeLayer:
    """Share of premises connectable to FttH, latest vintage (0–1, shown as %)."""
    cols = fibre_columns(indicators)
    if not cols:
        raise ValueError("indicators has no ftth_share_{vintage} column")
    col = cols[-1]
    v = _by_code(communes, indicators, col)
    colours, legend = classify(v.clip(upper=1.0), [0, 0.2, 0.4, 0.6, 0.8, 0.95, 1.0],
                               ["moins de 20 %", "20 à 40 %", "40 à 60 %", "60 à 80 %", "80 à 95 %", "95 % et plus"],
                               "YlGnBu")
    return ThemeLayer("fibre_share", f"Part des locaux raccordables FttH ({vintage_label(col)})",
                      "Part FttH", "Locaux raccordables FttH", colours, _fmt(v, fr_percent), legend, ("fibre",))


def fibre_change_layer(communes: pd.DataFrame, indicators: pd.DataFrame) -> ThemeLayer:
    """Change of the FttH share between the first and last vintages, in percentage points."""
    cols = fibre_columns(indicators)
    v = _by_code(communes, indicators, "ftth_share_change")
    colours, legend = classify(v, [-np.inf, 0, 0.2, 0.4, 0.6, 0.8, np.inf],
                               ["baisse ou stable", "+0 à +20 points", "+20 à +40 points", "+40 à +60 points",
                                "+60 à +80 points", "+80 points et plus"], "PuBuGn")
    span = f"{vintage_label(cols[0])} → {vintage_label(cols[-1])}" if len(cols) >= 2 else "entre millésimes"
    labels = v.map(lambda x: (("+" if x > 0 else "") + fr_number(100 * x, 1) + " points") if pd.notna(x) else MISSING_LABEL)
    return ThemeLayer("fibre_change", f"Évolution de la part FttH ({span})", "Évolution",
                      "Évolution (points de %)", colours, labels.astype(object), legend, ("fibre",))


def _covered(communes: pd.DataFrame, indicators: pd.DataFrame, v: pd.Series) -> pd.Series:
    if "flows_covered" in indicators:
        cov = _by_code(communes, indicators, "flows_covered").astype("boolean").fillna(False)
        return v.where(cov.to_numpy(dtype=bool))
    return v


def commuting_share_layer(communes: pd.DataFrame, indicators: pd.DataFrame) -> ThemeLayer:
    """Share of employed residents working outside their commune (0–1)."""
    v = _covered(communes, indicators, _by_code(communes, indicators, "share_outside"))
    colours, legend = classify(v, [0, 0.5, 0.7, 0.8, 0.9, 1.0],
                               ["moins de 50 %", "50 à 70 %", "70 à 80 %", "80 à 90 %", "90 % et plus"], "OrRd")
    return ThemeLayer("commuting_share", "Part des actifs travaillant hors de leur commune de résidence",
                      "Part hors commune", "Actifs travaillant hors commune", colours, _fmt(v, fr_percent),
                      legend, ("commuting",), note="Gris : commune hors du champ des flux domicile-travail lus.")


def long_commuters_layer(communes: pd.DataFrame, indicators: pd.DataFrame, long_km: float) -> ThemeLayer:
    """Number of residents commuting farther than ``long_km`` km."""
    v = _covered(communes, indicators, _by_code(communes, indicators, "long_commuters"))
    colours, legend = classify(v, [0, 10, 50, 200, 1000, np.inf],
                               ["moins de 10", "10 à 50", "50 à 200", "200 à 1 000", "1 000 et plus"], "Reds")
    return ThemeLayer("long_commuters", f"Navetteurs de longue distance (plus de {fr_number(long_km)} km)",
                      "Navetteurs > " + fr_number(long_km) + " km", "Actifs (nombre)", colours,
                      _fmt(v, lambda x: fr_number(x, 0)), legend, ("commuting",),
                      note="Gris : commune hors du champ des flux domicile-travail lus.")


def distance_layer(communes: pd.DataFrame, indicators: pd.DataFrame) -> ThemeLayer:
    """Population-weighted distance to the nearest space (km)."""
    v = _by_code(communes, indicators, "pop_weighted_dist_km")
    colours, legend = classify(v, [0, 2, 5, 10, 20, np.inf],
                               ["moins de 2 km", "2 à 5 km", "5 à 10 km", "10 à 20 km", "20 km et plus"], "YlOrBr")
    return ThemeLayer("access_distance", "Distance à vol d'oiseau au lieu le plus proche (coworking, tiers-lieu)",
                      "Distance", "Distance à vol d'oiseau (pondérée par la population)", colours,
                      _fmt(v, lambda x: f"{fr_number(x, 1)}{NBSP}km"), legend, ("population", "spaces"),
                      note="Gris : aucun lieu dans le territoire (île ou département d'outre-mer sans lieu, "
                           "ex. Mayotte) ; les distances ne traversent pas la mer.")


def access_2sfca_layer(communes: pd.DataFrame, indicators: pd.DataFrame) -> ThemeLayer:
    """APL-style 2SFCA score (places per 10,000 inhabitants): fixed classes, the same for every territory,
    zero as its own class."""
    v = _by_code(communes, indicators, SCORE_COL)
    edges = [0.0, 1e-12, 0.1, 0.25, 0.5, 1.0, np.inf]
    labels = ["0 (aucun lieu à portée)", "moins de 0,1", "0,1 à 0,25", "0,25 à 0,5", "0,5 à 1", "1 et plus"]
    colours, legend = classify(v, edges, labels, "BuPu")
    return ThemeLayer("access_2sfca", "Accessibilité aux lieux (score 2SFCA, distances à vol d'oiseau)", "Score 2SFCA",
                      "Lieux pour 10 000 hab. (2SFCA)", colours, _fmt(v, _sig), legend, ("population", "spaces"))


def _sig(x: float) -> str:
    """Three significant digits, French decimal comma."""
    if x is None or pd.isna(x):
        return ""
    if x == 0:
        return "0"
    decimals = max(0, 2 - int(math.floor(math.log10(abs(x)))))
    return fr_number(x, min(decimals, 6))


def profiles_layer(communes: pd.DataFrame, profiles: pd.DataFrame) -> ThemeLayer:
    """Territory profile (cluster) of each commune, by ``insee_code`` or ``epci_code``."""
    key = "insee_code" if "insee_code" in profiles.columns else "epci_code"
    names = profiles.drop_duplicates(key).set_index(key)["profile_name"].astype("string")
    v = communes[key].map(names).set_axis(communes["insee_code"].values)
    cats = sorted(v.dropna().unique(), key=str)
    if "profile_id" in profiles.columns:
        order = profiles.drop_duplicates("profile_name").sort_values("profile_id")["profile_name"].astype(str).tolist()
        cats = [c for c in order if c in set(cats)]
    spec = {str(c): (str(c), col) for c, col in zip(cats, qualitative(len(cats)), strict=True)}
    colours, labels, legend = categorical(v, spec)
    unstable = bool(len(cats)) and all(str(c).endswith("(typologie instable)") for c in cats)
    title = "Profils de territoires (typologie instable)" if unstable else "Profils de territoires"
    return ThemeLayer("territory_profiles", title, "Profil", "Profil", colours, labels, legend,
                      ("territories", "fibre", "commuting", "population"))


def spaces_count_layer(communes: pd.DataFrame, spaces: pd.DataFrame) -> ThemeLayer:
    """Number of places of the register per commune; only communes with at least one are drawn. The title
    names the lists and their years (:func:`coworking_geo.spaces.titles.places_title`)."""

    n = spaces["insee_code"].dropna().value_counts()
    v = communes["insee_code"].map(n).set_axis(communes["insee_code"].values)
    v = v[v > 0]
    colours, legend = classify(v, [1, 2, 4, 10, np.inf], ["1", "2 ou 3", "4 à 9", "10 et plus"], "YlGn")
    return ThemeLayer("spaces", places_title(spaces), "Lieux", "Communes (nombre de lieux)",
                      colours, _fmt(v, lambda x: fr_number(x)), legend, ("spaces",))


def priority_layer(communes: pd.DataFrame, priority: pd.DataFrame) -> ThemeLayer:
    """Priority territories, coloured by rank tier; other communes are not drawn."""
    p = priority.copy()
    if "insee_code" not in p.columns:
        raise ValueError("priority_territories.csv has no insee_code column")
    p["insee_code"] = p["insee_code"].astype("string").str.zfill(5)
    if "rank" not in p.columns:
        p["rank"] = np.arange(1, len(p) + 1)
    rank = p.drop_duplicates("insee_code").set_index("insee_code")["rank"]
    v = communes["insee_code"].map(rank).set_axis(communes["insee_code"].values).dropna()
    colours, legend = classify(v, [0, 10.5, 25.5, np.inf], ["rang 1 à 10", "rang 11 à 25", "rang 26 et au-delà"], "RdPu_r")
    return ThemeLayer("priority", "Territoires prioritaires et nouveaux lieux proposés", "Rang de priorité",
                      "Territoires prioritaires", colours, _fmt(v, lambda x: fr_number(x)), legend,
                      ("territories", "commuting", "population", "spaces"))
