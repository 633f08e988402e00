"""The small vocabulary of space types, and the mapping from each source's labels to it.

``types`` in ``spaces.parquet`` is a ``;``-joined, ordered subset of :data:`TYPES`;
an empty string means the source gives no type (an *untyped* place).
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

TYPES: tuple[str, ...] = ("coworking", "fablab", "atelier", "nourricier", "culturel", "numerique", "autre", "tiers-lieu")

TYPE_LABELS_FR: dict[str, str] = {
    "coworking": "Coworking / bureaux partagés",
    "fablab": "Fablab / makerspace",
    "atelier": "Atelier artisanal partagé",
    "nourricier": "Tiers-lieu nourricier",
    "culturel": "Tiers-lieu culturel",
    "numerique": "Médiation / inclusion numérique",
    "autre": "Autre",
    "tiers-lieu": "Tiers-lieu (lauréat d\u2019un programme, activité non précisée)",
}

# Keyword rules on folded text (accents stripped, lower case). First-listed type first.
TYPE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "coworking": ("coworking", "co working", "bureaux partages", "bureau partage", "espace de travail",
                  "teletravail", "dominante coworking"),
    "fablab": ("fablab", "fab lab", "makerspace", "maker space", "hackerspace", "hacker space",
               "dominante fablab", "fabrication numerique"),
    "atelier": ("atelier", "artisan", "manufacture", "recyclerie", "ressourcerie", "repair"),
    "nourricier": ("nourricier", "agricol", "agricult", "ferme", "foodlab", "cuisine", "alimentation",
                   "jardin", "potager", "maraich"),
    "culturel": ("cultur", "artist", "spectacle", "theatre", "musique", "lieu intermediaire", "friche"),
    "numerique": ("numerique", "mediation num", "inclusion num", "informatique", "digital"),
    "autre": ("autre", "living lab", "innovation sociale"),
    "tiers-lieu": (),   # the programme laureates' type, set by their reader, never from text
}


def fold(series: pd.Series) -> pd.Series:
    """Lower-case, strip accents and collapse punctuation/blanks to single spaces (NA → '')."""
    s = series.astype("string").fillna("")
    s = s.map(lambda t: unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode("ascii"))
    s = s.astype("string").str.lower().str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()
    return s


def map_types(labels: pd.Series) -> pd.Series:
    """Map free-text type labels to a ``;``-joined subset of :data:`TYPES` ('' when empty or unknown text → 'autre')."""
    folded = fold(labels)
    hits = pd.DataFrame(
        {t: folded.str.contains("|".join(re.escape(k) for k in kws), regex=True)
         for t, kws in TYPE_KEYWORDS.items() if kws},
        index=labels.index,
    )
    # Text that matches nothing is still typed: 'autre'.
    hits["autre"] = hits["autre"] | (folded.ne("") & ~hits.drop(columns="autre").any(axis=1))
    return join_type_flags(hits)


def join_type_flags(flags: pd.DataFrame) -> pd.Series:
    """Boolean columns named after :data:`TYPES` → ``;``-joined strings in vocabulary order."""
    out = pd.Series("", index=flags.index, dtype="string")
    for t in TYPES:
        if t in flags:
            add = flags[t].fillna(False).astype(bool)
            out = out.mask(add, out.where(out.eq(""), out + ";") + t)
    return out.str.strip(";")


def union_types(a: pd.Series, b: pd.Series) -> pd.Series:
    """Union of two ``;``-joined type columns, in vocabulary order."""
    flags = pd.DataFrame({t: (a.fillna("").str.split(";").map(lambda x, t=t: t in x))
                          | (b.fillna("").str.split(";").map(lambda x, t=t: t in x)) for t in TYPES}, index=a.index)
    return join_type_flags(flags.astype(bool))
