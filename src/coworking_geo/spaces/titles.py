"""What the register holds, in words: the title naming its lists and their years, and its layers.

Every title of a map, PNG or table of places comes from :func:`places_title`, so a
reader never takes the 2019 list for today's ("Lieux recensés en 2019 (CGET) et
lauréats 2024 des programmes de l'ANCT").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

#: source id pattern → (kind of list, phrase with {y} for the year)
SOURCE_PHRASES: tuple[tuple[str, str, str], ...] = (
    (r"cget", "cget", "lieux recensés en {y} (CGET)"),
    (r"tierslieux_20\d\d|france_tierslieux", "census", "recensement {y} de France Tiers-Lieux"),
    (r"fabrique|manufacture", "programme", "lauréats {y} des programmes de l\u2019ANCT"),
)
#: programme label → French name of its layer
LABEL_LAYERS: dict[str, str] = {"fabrique": "Fabriques de territoire", "manufacture": "Manufactures de proximité"}


def source_kind(source: str) -> str:
    """'cget', 'census', 'programme' or 'other' for a source id."""
    for pat, kind, _ in SOURCE_PHRASES:
        if re.search(pat, source):
            return kind
    return "other"


def register_sources(spaces: pd.DataFrame) -> list[tuple[str, str]]:
    """(source id, year) of every source present in the register, in the order of its ``sources`` column."""
    if "sources" not in spaces or spaces.empty:
        if "source" in spaces and "vintage" in spaces:
            pairs = spaces[["source", "vintage"]].astype("string").fillna("").drop_duplicates()
            return list(pairs.itertuples(index=False, name=None))
        return []
    out: dict[str, str] = {}
    vintages = spaces["vintages"] if "vintages" in spaces else pd.Series("", index=spaces.index)
    for srcs, years in zip(spaces["sources"].astype("string").fillna(""),
                           vintages.astype("string").fillna(""), strict=True):
        ys = years.split(";")
        for i, s in enumerate(srcs.split(";")):
            if s and (s not in out or not out[s]):
                out[s] = ys[i] if i < len(ys) else ""
    return list(out.items())


def _phrase(source: str, year: str) -> str:
    for pat, _, text in SOURCE_PHRASES:
        if re.search(pat, source):
            return text.format(y=year).replace(" en  ", " ").replace("  ", " ")
    return f"liste « {source} »" + (f" ({year})" if year else "")


def places_title(spaces: pd.DataFrame) -> str:
    """French title of the places shown, naming each list and its year (one phrase per programme year)."""
    phrases: list[str] = []
    srcs = sorted(register_sources(spaces), key=lambda sy: (source_kind(sy[0]) == "programme", str(sy[1])))
    for s, y in srcs:
        p = _phrase(s, y)
        if p not in phrases:
            phrases.append(p)
    if not phrases:
        return "Lieux recensés"
    text = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " et " + phrases[-1]
    if source_kind(srcs[0][0]) == "census":
        text = "lieux du " + text
    return text[0].upper() + text[1:]


@dataclass(frozen=True)
class PlaceLayer:
    """One switchable layer of the map of places: French name, the rows it holds, its programme label."""

    name: str
    mask: pd.Series
    label: str = ""


def place_layers(spaces: pd.DataFrame) -> list[PlaceLayer]:
    """One layer per list of places (the places it holds, whatever their kept row) and one per programme
    label; a place in two lists, or a list place that is also a laureate, is in both layers."""
    layers: list[PlaceLayer] = []
    srcs = spaces["sources"].astype("string").fillna("").str.split(";") if "sources" in spaces else \
        spaces["source"].astype("string").map(lambda s: [s])
    for s, y in register_sources(spaces):
        if source_kind(s) == "programme":
            continue
        mask = srcs.map(lambda xs, s=s: s in xs).astype(bool)
        name = _phrase(s, y)
        layers.append(PlaceLayer(name[0].upper() + name[1:], mask))
    years = {source_kind(s): y for s, y in register_sources(spaces) if source_kind(s) == "programme"}
    for lab, name in LABEL_LAYERS.items():
        if lab in spaces:
            mask = spaces[lab].astype("string").fillna("").ne("")
            if mask.any():
                y = years.get("programme", "")
                layers.append(PlaceLayer(f"{name} (lauréats {y})".replace(" )", ")"), mask, lab))
    return layers
