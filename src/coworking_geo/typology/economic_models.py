"""Economic and governance features of the France Tiers-Lieux census (second feature set of the space models).

The census files (2023: ``bdftl-2023-01-fiche-identite.csv`` + ``bdftl-2023-04-activites.csv``;
2026: ``bdftl-2026-01-fiche-identite.csv``) are ``;``-separated, keyed by ``ID_UNIQUE``.
Feature groups, each found by the column names below (whichever exist):

- legal form (one-hot): ``TYPE_STRUCTURE_GEST`` (documented), ``FORME_JURIDIQUE``, ``STATUT_JURIDIQUE``;
- governance (one-hot): ``initiative_origine`` (documented), ``GOUVERNANCE``, ``MODE_GOUVERNANCE``;
- project state (one-hot): ``état du projet`` (documented);
- activities: ``familles_tiers_lieux`` (documented; multi-valued, split on ``,`` ``;`` ``|``)
  as multi-hot, and the 0/1 activity flags ``TYPE_ACT_*``, ``OFFRE_NUM_*``, ``EQPT_NUM``,
  ``PROD_NUMER``, ``THEME_FORM_*`` (documented, 2023);
- age: years since ``DATE_OUV`` (documented) at the census year;
- jobs: log(1 + n) of ``NB_ETP`` / ``NB_SALARIES`` / ``NB_EMPLOIS`` (not documented in our
  sources: used when present);
- revenue mix: ``PART_*`` / ``PCT_RECETTES_*`` columns as fractions 0–1 (idem).

Categorical groups keep their ``max_levels`` most frequent values; the rest is "other".
"""

from __future__ import annotations

import re
from typing import cast

import numpy as np
import pandas as pd

from coworking_geo.typology.clustering import ClusteringResult
from coworking_geo.errors import InputFileError
from coworking_geo.io import parse_decimal
from coworking_geo.log import get_logger
from coworking_geo.typology.space_models import dedupe_names

LOG = get_logger(__name__)

KEY = "ID_UNIQUE"
CATEGORICAL = {
    "legal_form": ["TYPE_STRUCTURE_GEST", "FORME_JURIDIQUE", "STATUT_JURIDIQUE"],
    "governance": ["initiative_origine", "GOUVERNANCE", "MODE_GOUVERNANCE"],
    "state": ["état du projet", "etat du projet", "ETAT_PROJET"],
}
FAMILIES = ["familles_tiers_lieux", "FAMILLES_TIERS_LIEUX"]
FLAG_RE = re.compile(r"^(TYPE_ACT_|OFFRE_NUM_|THEME_FORM_)|^(EQPT_NUM|PROD_NUMER)$")
JOBS = ["NB_ETP", "NB_SALARIES", "NB_EMPLOIS"]
REVENUE_RE = re.compile(r"^(PART_|PCT_RECETTES_)", re.IGNORECASE)
TRUE_WORDS = {"1", "oui", "true", "vrai", "x", "yes", "o"}


def _first(df: pd.DataFrame, names: list[str]) -> str | None:
    lower = {c.lower(): c for c in df.columns}
    return next((lower[n.lower()] for n in names if n.lower() in lower), None)


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(text).strip().lower()).strip("_")[:40] or "empty"


def read_census(identity: str, activities: str | None = None) -> pd.DataFrame:
    """The census identity file joined with the activities file (when given) on ID_UNIQUE."""
    from coworking_geo.io import read_csv_text

    df, _ = read_csv_text(identity, required=[KEY])
    if df[KEY].duplicated().any():
        n = int(df[KEY].duplicated().sum())
        LOG.warning("%s: %d duplicated ID_UNIQUE rows dropped (first kept)", identity, n)
        df = df.drop_duplicates(KEY)
    if activities:
        act, _ = read_csv_text(activities, required=[KEY])
        act = act.drop_duplicates(KEY)
        df = df.merge(act[[KEY, *[c for c in act.columns if c not in df.columns]]], on=KEY, how="left")
    return df


def economic_features(census: pd.DataFrame, census_year: int = 2023, max_levels: int = 8,
                      path: str = "census") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Feature frame indexed by ID_UNIQUE, and a table of the groups found (group, columns, n_features).

    Raises InputFileError when no economic or governance column at all is found.
    """
    if KEY not in census.columns:
        raise InputFileError(path, f"missing column {KEY}")
    df = census.drop_duplicates(KEY).set_index(KEY).sort_index(kind="mergesort")
    out = pd.DataFrame(index=df.index)
    found = []
    for group, names in CATEGORICAL.items():
        col = _first(df, names)
        if col is None:
            continue
        v = df[col].astype("string").str.strip()
        v = v.mask(v.eq("")).fillna("unknown")
        top = v.value_counts().sort_index(kind="mergesort").sort_values(ascending=False, kind="mergesort")
        keep = list(top.index[:max_levels])
        v = v.where(v.isin(keep), "other")
        dummies = pd.get_dummies(v, prefix=group, prefix_sep="=", dtype=float)
        out = out.join(dummies)
        found.append({"group": group, "columns": col, "n_features": dummies.shape[1]})
    fam = _first(df, FAMILIES)
    if fam is not None:
        lists = df[fam].astype("string").fillna("").str.split(r"[,;|]")
        items = lists.apply(lambda xs: sorted({x.strip() for x in xs if x and x.strip()}))
        counts = pd.Series([x for xs in items for x in xs]).value_counts()
        top_acts = sorted(counts.index[:max_levels * 2])
        for t in top_acts:
            out[f"activity={t}"] = items.apply(lambda xs, t=t: float(t in xs))
        found.append({"group": "activities", "columns": fam, "n_features": len(top_acts)})
    flags = [c for c in df.columns if FLAG_RE.match(str(c))]
    for c in flags:
        s = df[c].astype("string").str.strip().str.lower()
        out[f"flag={c}"] = s.isin(TRUE_WORDS).astype(float).where(s.notna() & s.ne(""), np.nan)
    if flags:
        found.append({"group": "activity_flags", "columns": ";".join(flags), "n_features": len(flags)})
    date = _first(df, ["DATE_OUV"])
    if date is not None:
        year = pd.to_numeric(df[date].astype("string").str.extract(r"((?:19|20)\d\d)")[0], errors="coerce")
        out["years_open"] = (census_year - year).clip(lower=0)
        found.append({"group": "age", "columns": date, "n_features": 1})
    jobs = _first(df, JOBS)
    if jobs is not None:
        out["log_jobs"] = np.log1p(parse_decimal(df[jobs]).clip(lower=0))
        found.append({"group": "jobs", "columns": jobs, "n_features": 1})
    rev = [c for c in df.columns if REVENUE_RE.match(str(c))]
    for c in rev:
        rv = parse_decimal(df[c])
        out[f"revenue={c}"] = (rv / 100.0 if rv.max(skipna=True) > 1.0 else rv).to_numpy()
    if rev:
        found.append({"group": "revenue_mix", "columns": ";".join(rev), "n_features": len(rev)})
    if out.shape[1] == 0:
        raise InputFileError(path, "no economic or governance column found (legal form, governance, activities, "
                                   "jobs, revenue mix); columns: " + ", ".join(map(str, df.columns[:15])))
    out.index = out.index.astype(str)
    LOG.info("census economic features: %d places, %d features in groups %s", len(out), out.shape[1],
             [f["group"] for f in found])
    return out, pd.DataFrame(found)


def link_spaces(features: pd.DataFrame, spaces: pd.DataFrame, source: str) -> pd.DataFrame:
    """Re-index census features by space_id through spaces' (source, source_id); unmatched rows keep
    ``<source>:<ID_UNIQUE>`` as identifier."""
    sp = spaces[spaces["source"].astype("string") == source]
    mapping = dict(zip(sp["source_id"].astype(str), sp["space_id"].astype(str), strict=False))
    ids = [mapping.get(i, f"{source}:{i}") for i in features.index]
    LOG.info("%d of %d census places matched to a space_id", sum(i in mapping for i in features.index), len(ids))
    out = features.copy()
    out.index = pd.Index(ids, name="space_id")
    return out[~out.index.duplicated()]


def name_economic_models(features: pd.DataFrame, result: ClusteringResult) -> pd.DataFrame:
    """Profile and name per cluster.

    Rule (French): « <activity> (<legal form>) » where activity is the activity
    family or flag with the largest share over the members (else « Tiers-lieu »)
    and legal form the dominant ``legal_form`` value when it covers ≥ 50 % of
    members (else « statuts variés »); « , avec salariés » when the mean log_jobs
    z-score is > 0.5 (e.g. « Espace de coworking (SCIC) »).
    Repeated names get their most distinctive feature.
    """
    lab = result.labels.reindex(features.index)
    rows = []
    for lid, g in features.groupby(lab, sort=True):
        legal = g[[c for c in g.columns if c.startswith("legal_form=")]].mean()
        lf = str(legal.idxmax()).split("=", 1)[1] if len(legal) and legal.max() >= 0.5 else "statuts variés"
        acts = g[[c for c in g.columns if c.startswith(("activity=", "flag="))]].mean()
        act = str(acts.sort_index().idxmax()).split("=", 1)[1] if len(acts) and acts.max() > 0 else "Tiers-lieu"
        name = f"{act} ({lf})"
        center = cast(pd.Series, result.centers.loc[lid]) if lid in result.centers.index else pd.Series(dtype=float)
        if center.get("log_jobs", 0.0) > 0.5:
            name = name[:-1] + ", avec salariés)"
        row = {"model_id": int(lid) + 1, "model_name": name if lid >= 0 else "Lieux atypiques (non classés)",
               "n_spaces": len(g), "share": len(g) / len(features)}
        row.update({f"mean_{c}": float(g[c].mean()) for c in g.columns})
        rows.append(row)
    prof = pd.DataFrame(rows)
    labels = {c: (f"moins de {c}", f"plus de {c}") for c in features.columns}
    dedupe_names(prof, result, "model_id", "model_name", labels)
    return prof


def economic_group(column: str) -> str:
    """Feature group of an economic feature column (``legal_form=…`` → legal_form, ``flag=…`` → activity_flags…)."""
    prefix = column.split("=", 1)[0] if "=" in column else column
    return {"flag": "activity_flags", "activity": "activities", "revenue": "revenue_mix", "years_open": "age",
            "log_jobs": "jobs"}.get(prefix, prefix)


def economic_weights(columns: list[str] | pd.Index, groups: pd.DataFrame | None = None) -> dict[str, float]:
    """Gower weight of each column so that every feature group (legal form, governance, activities, …) weighs
    the same: 1 / groups / columns in the group. ``groups`` (from :func:`economic_features`) is only logged."""
    g = {c: economic_group(str(c)) for c in columns}
    size = pd.Series(g).value_counts()
    if groups is not None:
        LOG.info("economic feature groups weighted equally: %s", dict(size))
    return {c: 1.0 / len(size) / float(size[k]) for c, k in g.items()}
