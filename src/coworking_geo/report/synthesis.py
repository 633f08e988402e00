"""Synthèse pour décideurs: the mission's four questions answered from the results tables.

Every figure of the synthesis is read from a table of ``results/{territory}/tables/``
(never written by hand): a :class:`Fig` keeps the table, the row filter, the
column and the aggregation it came from, and the page carries them in
``data-*`` attributes so that a test can recompute each figure from its CSV.
A sentence whose table (or column) is absent is left out, never invented.
Shares are fractions 0–1 shown as percentages; distances are great-circle km.
"""

from __future__ import annotations

import html
import math
import re
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from coworking_geo.territories import classify
from coworking_geo.atlas.themes import fr_number, fr_percent
from coworking_geo.labels import TERRITORY_CLASS_FR

MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre"]


@dataclass(frozen=True)
class Fig:
    """One figure of the synthesis and where it comes from.

    ``agg`` is ``value`` (the cell of the single row matching ``where``), ``count``
    (number of rows matching ``where``), ``sum``, ``max`` or ``mean`` (of ``col`` over those rows).
    ``where`` is a tuple of ``(column, value)`` conditions (empty: all rows). ``kind``: int, pct, km, dec.
    """

    value: float
    kind: str
    table: str
    col: str
    where: tuple[tuple[str, str], ...] = ()
    agg: str = "value"

    def display(self) -> str:
        """French display: '1 500', '64,3 %', '19,9 km', '4,16'."""
        v = self.value
        if self.kind == "pct":
            return fr_percent(v)
        if self.kind == "km":
            return f"{fr_number(v, 1)}\u202fkm"
        if self.kind == "dec":
            return "0" if v == 0 else fr_number(v, 2 if abs(v) < 10 else 1)
        return fr_number(round(v))

    def html(self) -> str:
        """The figure as a ``<b>`` carrying its provenance in data attributes."""
        where = ";".join(f"{k}={v}" for k, v in self.where)
        return (f'<b class="sfig" data-synth-fig data-table="{html.escape(self.table)}" '
                f'data-where="{html.escape(where)}" data-col="{html.escape(self.col)}" data-agg="{self.agg}" '
                f'data-value="{self.value!r}">{html.escape(self.display())}</b>')


@dataclass
class Answer:
    """One of the four questions: its sentences (HTML), links to maps and tables, stated limits."""

    key: str
    question: str
    sentences: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    limits: list[str] = field(default_factory=list)

    def html_figures(self) -> int:
        """Number of table figures in the answer's sentences and limits."""
        return sum(x.count("data-synth-fig") for x in self.sentences + self.limits)


def sentence(template: str, *figs: Fig | str) -> str:
    """HTML sentence: ``template`` (plain French text with ``{}`` slots) filled with figures or escaped text."""
    parts = template.split("{}")
    if len(parts) != len(figs) + 1:
        raise ValueError(f"sentence: {len(parts) - 1} slots for {len(figs)} values")
    out = [html.escape(parts[0])]
    for f, rest in zip(figs, parts[1:], strict=True):
        out.append(f.html() if isinstance(f, Fig) else html.escape(str(f)))
        if isinstance(f, Fig) and f.kind == "int" and abs(f.value) < 2:  # French singular for 0 and 1
            for many, one in SINGULAR:
                if rest.startswith(many):
                    rest = one + rest[len(many):]
                    break
        out.append(html.escape(rest))
    return "".join(out)


#: plural word after a count → its singular
SINGULAR = [(" nouveaux lieux", " nouveau lieu"), (" lieux", " lieu"), (" communes sont", " commune est"),
            (" communes", " commune"), (" modèles", " modèle"), (" habitants", " habitant"),
            (" personnes", " personne"), (" sont", " est")]


def vintage_fr(v: str) -> str:
    """A source vintage in French: '2019-06' → 'juin 2019'; '2018T1' → '2018 T1'."""
    s = str(v).strip()
    m = re.fullmatch(r"(\d{4})-(\d{2})", s)
    if m:
        return f"{MONTHS_FR[int(m.group(2)) - 1]} {m.group(1)}"
    m = re.fullmatch(r"(\d{4})[tT](\d)", s)
    if m:
        return f"{m.group(1)} T{m.group(2)}"
    return s


def class_label(code: str) -> str:
    """French label of a territory class, in lower case for a sentence."""
    lab = TERRITORY_CLASS_FR.get(str(code), str(code))
    return lab[:1].lower() + lab[1:]


Where = tuple[str, str] | tuple[tuple[str, str], ...] | None


def _conditions(where: Where) -> tuple[tuple[str, str], ...]:
    if not where:
        return ()
    if isinstance(where[0], str):
        return ((str(where[0]), str(where[1])),)
    return tuple((str(k), str(v)) for k, v in where)


def _select(df: pd.DataFrame, conds: tuple[tuple[str, str], ...]) -> pd.DataFrame | None:
    rows = df
    for k, v in conds:
        if k not in df.columns:
            return None
        rows = rows[rows[k].astype(str) == v]
    return rows


def read_fig(df: pd.DataFrame | None, table: str, col: str, where: Where = None, agg: str = "value",
             kind: str = "int") -> Fig | None:
    """The figure ``agg(col)`` over the rows of ``df`` matching ``where`` (one or several ``(column, value)``);
    None when the table, a column or the value is absent."""
    if df is None or (agg != "count" and col not in df.columns):
        return None
    conds = _conditions(where)
    rows = _select(df, conds)
    if rows is None:
        return None
    if agg == "count":
        return Fig(float(len(rows)), kind, table, col, conds, agg)
    vals = pd.to_numeric(rows[col], errors="coerce")
    if agg == "value":
        if len(rows) != 1 or pd.isna(vals.iloc[0]):
            return None
        v = float(vals.iloc[0])
    elif agg == "sum":
        v = float(vals.sum())
    elif agg == "max":
        v = float(vals.max())
    elif agg == "mean":
        v = float(vals.mean())
    else:
        raise ValueError(f"read_fig: unknown aggregation {agg!r}")
    if math.isnan(v):
        return None
    return Fig(v, kind, table, col, conds, agg)


def recompute(df: pd.DataFrame, where: str, col: str, agg: str) -> float:
    """Recompute a figure from its table and its ``data-where``/``data-col``/``data-agg`` (for tests)."""
    conds = tuple(tuple(c.split("=", 1)) for c in where.split(";") if c)
    rows = _select(df, conds)  # type: ignore[arg-type]
    if rows is None:
        return math.nan
    if agg == "count":
        return float(len(rows))
    vals = pd.to_numeric(rows[col], errors="coerce")
    return float({"value": vals.iloc[0] if len(vals) == 1 else math.nan, "sum": vals.sum(),
                  "max": vals.max(), "mean": vals.mean()}[agg])


def _classes(df: pd.DataFrame) -> list[str]:
    """Territory classes present in a table with a ``territory_class`` column, in the classification's order;
    the classes given for a missing input (a handful of communes) are left out of comparisons."""
    present = set(df["territory_class"].astype(str))
    return [c for c in classify.TERRITORY_CLASSES if c in present and c not in classify.INCOMPLETE_CLASSES]


def _flow_files(c: pd.DataFrame | None) -> str:
    """Labels of the commuting files that cover at least one commune (``commuting_summary.csv``)."""
    if c is None or not {"label", "communes_covered"} <= set(c.columns):
        return ""
    cov = pd.to_numeric(c["communes_covered"], errors="coerce").fillna(0)
    keep = c[(cov > 0) & (c["source"].astype(str) != "none")] if "source" in c.columns else c[cov > 0]
    return ", ".join(dict.fromkeys(keep["label"].astype(str)))


def _present(pairs: list[tuple[str, Fig | None]]) -> list[tuple[str, Fig]]:
    """The (class, figure) pairs whose figure exists."""
    return [(c, f) for c, f in pairs if f is not None]


def _rural(code: str) -> bool:
    return str(code).startswith("rural")


#: a (model, class) cell needs this many places before its lift is quoted
MIN_PLACES_FOR_LIFT = 5
DIAG = "diagnosis_by_territory_class.csv"
REGION = "diagnosis_by_region.csv"
ACCESS = "access_by_class.csv"
PRIORITY = "priority_territories.csv"
SITES = "proposed_sites.csv"
MODELS = "space_model_profiles.csv"
FIT = "model_fit_by_territory_class.csv"
COMMUTING = "commuting_summary.csv"
STABILITY = "space_model_stability.csv"
SITES_SUMMARY = "proposed_sites_summary.csv"
PLACES = "places.csv"
TOTAL = ("territory_class", "total")


def where_answer(t: dict[str, pd.DataFrame], register: str, links: dict[str, str]) -> Answer:
    """Où sont les lieux ?"""
    a = Answer("ou", "Où sont les lieux ?")
    d = t.get(DIAG)
    if d is not None:
        n, nc, ncom = (read_fig(d, DIAG, c, TOTAL) for c in ("spaces", "communes_with_space", "communes"))
        if n and nc and ncom:
            a.sentences.append(sentence(f"D\u2019après le registre ({register}), on compte {{}} lieux de coworking "
                                        "et tiers-lieux, dans {} communes sur {}.", n, nc, ncom))
        w = read_fig(d, DIAG, "population_share_within_10km", TOTAL, kind="pct")
        if w:
            a.sentences.append(sentence("{} de la population vit à moins de 10 km (à vol d\u2019oiseau) d\u2019un lieu.", w))
        cls = _classes(d)
        dens = _present([(c, read_fig(d, DIAG, "spaces_per_100k", ("territory_class", c), kind="dec")) for c in cls])
        tot = read_fig(d, DIAG, "spaces_per_100k", TOTAL, kind="dec")
        if dens and tot:
            hi = max(dens, key=lambda x: x[1].value)
            lo = min(dens, key=lambda x: x[1].value)
            rare = ("absente en {} ({} lieu)" if lo[1].value == 0 else "la plus rare en {} ({})")
            a.sentences.append(sentence("L\u2019offre est la plus dense en {} ({} lieux pour 100 000 habitants) et "
                                        + rare + ", pour une moyenne de {}.",
                                        class_label(hi[0]), hi[1], class_label(lo[0]), lo[1], tot))
    r = t.get(REGION)
    if r is not None and {"reg_code", "reg_name", "spaces_per_100k"} <= set(r.columns):
        regs = r[r["reg_code"].astype(str) != "total"]
        regs = regs[pd.to_numeric(regs["spaces_per_100k"], errors="coerce").notna()]
        if len(regs) > 1:
            top = _row_of_max(regs, "spaces_per_100k")
            f = read_fig(r, REGION, "spaces_per_100k", ("reg_code", str(top["reg_code"])), kind="dec")
            if f:
                a.sentences.append(sentence("La région la mieux dotée est {} ({} lieux pour 100 000 habitants).",
                                            str(top["reg_name"]), f))
    p = t.get(PLACES)
    if p is not None and "vintage" in p.columns:
        vint = p["vintage"].dropna().astype(str)
        if len(vint):
            latest = vint.max()
            f = read_fig(p, PLACES, "vintage", ("vintage", latest), agg="count")
            if f:
                a.sentences.append(sentence("Le registre des lieux compte {} lieux du millésime le plus récent ({}).",
                                            f, vintage_fr(latest)))
    a.limits.append(f"Registre : {register}. Un lieu ouvert ou fermé depuis n\u2019y figure pas ; le nombre "
                    "de lieux dépend de la définition retenue par chaque recensement.")
    a.links = [(lab, href) for lab, href in (("Carte des lieux", links.get("spaces", "")),
                                              ("Tableau par classe de territoire", f"tables/{DIAG}"),
                                              ("Tableau par région", f"tables/{REGION}")) if href]
    return a


def lack_answer(t: dict[str, pd.DataFrame], links: dict[str, str]) -> Answer:
    """Quels territoires en manquent ?"""
    a = Answer("manque", "Quels territoires en manquent ?")
    d = t.get(DIAG)
    if d is not None:
        w = _present([(c, read_fig(d, DIAG, "population_share_within_10km", ("territory_class", c), kind="pct"))
                      for c in _classes(d)])
        tot = read_fig(d, DIAG, "population_share_within_10km", TOTAL, kind="pct")
        if w and tot:
            lo = min(w, key=lambda x: x[1].value)
            a.sentences.append(sentence("Les communes de classe « {} » sont les plus éloignées : {} seulement de "
                                        "leurs habitants vivent à moins de 10 km d\u2019un lieu, contre {} en moyenne.",
                                        TERRITORY_CLASS_FR.get(lo[0], lo[0]), lo[1], tot))
    ac = t.get(ACCESS)
    if ac is not None and {"territory_class", "pop_weighted_dist_km"} <= set(ac.columns):
        dists = _present([(c, read_fig(ac, ACCESS, "pop_weighted_dist_km", ("territory_class", c), kind="km"))
                           for c in _classes(ac)])
        if dists:
            far = max(dists, key=lambda x: x[1].value)
            a.sentences.append(sentence("La distance au lieu le plus proche, pondérée par la population, est la plus "
                                        "longue en classe « {} » : {}.", TERRITORY_CLASS_FR.get(far[0], far[0]), far[1]))
    p = t.get(PRIORITY)
    if p is not None and len(p) and {"rank", "name"} <= set(p.columns):
        n = read_fig(p, PRIORITY, "rank", agg="count")
        first = p.sort_values("rank").iloc[0]
        pop = read_fig(p, PRIORITY, "population", ("rank", str(first["rank"])))
        beyond = read_fig(p, PRIORITY, "uncovered_population", ("rank", str(first["rank"])))
        if n and pop and beyond:
            dep = f" ({first['dep_code']})" if "dep_code" in p.columns and pd.notna(first["dep_code"]) else ""
            shared = (", réparties entre classes de territoire au prorata de leurs habitants loin d\u2019un lieu"
                      if "group_rank" in p.columns else "")
            a.sentences.append(sentence("{} communes sont classées prioritaires (habitants à plus de 10 km d\u2019un "
                                        "lieu, commune fibrée" + shared + ") ; en tête, {} : {} habitants, dont {} à "
                                        "plus de 10 km du lieu le plus proche.", n, f"{first['name']}{dep}", pop, beyond))
    a.limits.append("Distances à vol d\u2019oiseau (grand cercle), pas en temps de trajet routier ; la population "
                    "vient de la grille carroyée de 1 km (2021).")
    if d is not None:
        cov, ncom = read_fig(d, DIAG, "communes_with_flows", TOTAL), read_fig(d, DIAG, "communes", TOTAL)
        files = _flow_files(t.get(COMMUTING))
        if cov and ncom and cov.value < ncom.value:
            a.limits.append(sentence("Les flux domicile-travail ne sont connus que pour {} communes sur {}"
                                     + (f" (fichiers lus : {files})" if files else "") + " : ailleurs, la "
                                     "demande est mesurée par la population.", cov, ncom))
        elif cov and files:
            a.limits.append(f"Flux domicile-travail : {files} ; le recensement qui les fonde a plusieurs années.")
    a.links = [(lab, href) for lab, href in (("Carte des distances", links.get("access_distance", "")),
                                              ("Carte des territoires prioritaires", links.get("priority", "")),
                                              ("Tableau des territoires prioritaires", f"tables/{PRIORITY}"),
                                              ("Accès par classe", f"tables/{ACCESS}")) if href]
    return a


def _row_of_max(df: pd.DataFrame, col: str) -> pd.Series:
    """The first row where ``col`` (read as numbers, non-numbers skipped) is largest."""
    return df.iloc[int(np.nanargmax(pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)))]


def models_answer(t: dict[str, pd.DataFrame], links: dict[str, str]) -> Answer:
    """Quels modèles pour le rural, les villes moyennes, les métropoles ?"""
    a = Answer("modeles", "Quels modèles pour le rural, les villes moyennes, les métropoles ?")
    groups = [("les territoires ruraux", [c for c in classify.TERRITORY_CLASSES if _rural(c)]),
              ("les villes moyennes", ["ville_moyenne"]), ("les métropoles", ["metropole"])]
    fit, m = t.get(FIT), t.get(MODELS)
    if fit is not None and {"territory_class", "model_name", "n_places", "lift"} <= set(fit.columns):
        for label, classes in groups:
            sel = fit[fit["territory_class"].astype(str).isin(classes)
                      & (pd.to_numeric(fit["n_places"], errors="coerce") >= MIN_PLACES_FOR_LIFT)]
            if sel.empty:
                continue
            best = _row_of_max(sel, "lift")
            cls, name = str(best["territory_class"]), str(best["model_name"])
            where = (("territory_class", cls), ("model_name", name))
            lift, f = read_fig(fit, FIT, "lift", where, kind="dec"), read_fig(fit, FIT, "n_places", where)
            if lift and f:
                a.sentences.append(sentence("Pour {}, le modèle le plus surreprésenté est « {} » : {} fois sa part "
                                            "attendue en classe « {} » ({} lieux).", label, name, lift,
                                            TERRITORY_CLASS_FR.get(cls, cls), f))

    n = read_fig(m, MODELS, "model_name", agg="count")
    if n:
        a.sentences.insert(0, sentence("Les lieux se répartissent en {} modèles selon ce qu\u2019ils font "
                                       "(activités, labels de l\u2019État) et leur entourage, jamais selon la classe "
                                       "de leur territoire.", n))
    st = t.get(STABILITY)
    ari = read_fig(st, STABILITY, "ari", agg="mean", kind="dec")
    if ari:
        a.limits.append(sentence("Stabilité de la typologie : indice de Rand ajusté moyen {} sur "
                                 "rééchantillonnages (1 = parfaite) ; en dessous de 0,8, les modèles sont à lire "
                                 "comme des tendances, non comme des catégories fermes.", ari))
    a.limits.append("Les modèles décrivent les lieux existants ; ils ne disent pas quel modèle réussirait dans "
                    "un territoire qui n\u2019en a pas.")
    a.links = [(lab, href) for lab, href in (("Carte des lieux par modèle", links.get("spaces", "")),
                                              ("Carte des profils de territoires", links.get("territory_profiles", "")),
                                              ("Tableau des modèles", f"tables/{MODELS}")) if href]
    if fit is not None:
        a.links.append(("Modèles par classe de territoire", f"tables/{FIT}"))
    return a


def fund_answer(t: dict[str, pd.DataFrame], links: dict[str, str]) -> Answer:
    """Que financer ?"""
    a = Answer("financer", "Que financer ?")
    s = t.get(SITES)
    if s is not None and len(s) and "name" in s.columns:
        rank_col = "site_rank" if "site_rank" in s.columns else "rank"
        n = read_fig(s, SITES, rank_col, agg="count")
        cover = read_fig(s, SITES, "new_population_served", agg="sum")
        if n and cover:
            a.sentences.append(sentence("Ouvrir {} nouveaux lieux aux emplacements proposés rapprocherait d\u2019un "
                                        "lieu {} personnes qui n\u2019en ont pas aujourd\u2019hui.", n, cover))
        first = s.sort_values(rank_col).head(3)
        names = [f"{r['name']} ({r['dep_code']})" if "dep_code" in s.columns else str(r["name"])
                 for r in first.to_dict("records")]
        if names:
            a.sentences.append(sentence("Les trois premiers emplacements : {}.", ", ".join(names)))
        if "territory_class" in s.columns:
            counts = s["territory_class"].astype(str).value_counts()
            top = str(counts.index[0])
            f = read_fig(s, SITES, rank_col, ("territory_class", top), agg="count")
            if f and n:
                lead = "La plupart sont" if f.value > n.value / 2 else "La classe la plus représentée est"
                a.sentences.append(sentence(lead + " en classe « {} » ({} sur {}).",
                                            TERRITORY_CLASS_FR.get(top, top), f, n))
    p = t.get(PRIORITY)
    if p is not None and len(p) and "territory_class" in p.columns:
        counts = p["territory_class"].astype(str).value_counts()
        top = str(counts.index[0])
        f = read_fig(p, PRIORITY, "rank", ("territory_class", top), agg="count")
        if f:
            a.sentences.append(sentence("Parmi les communes prioritaires, {} sont de classe « {} », la plus "
                                        "représentée : c\u2019est la cible première d\u2019un soutien à "
                                        "l\u2019ouverture de lieux (type Fabrique de territoire).", f,
                                        TERRITORY_CLASS_FR.get(top, top)))
    ss = t.get(SITES_SUMMARY)
    share = read_fig(ss, SITES_SUMMARY, "covered_share", kind="pct")
    if share and a.sentences:
        a.sentences.insert(1, sentence("C’est {} de la demande aujourd’hui sans lieu à proximité.", share))
    km = read_fig(ss, SITES_SUMMARY, "coverage_km")
    method = str(ss["method"].iloc[0]) if ss is not None and "method" in ss.columns and len(ss) else ""
    how = "solution exacte" if method.startswith("exact") else "heuristique gloutonne"
    if km:
        a.limits.append(sentence("Emplacements choisis pour couvrir le plus de demande non servie à {} km à vol "
                                 f"d’oiseau (couverture maximale, {how}) ; ni le coût, ni le foncier, ni les "
                                 "porteurs de projet ne sont connus du calcul.", km))
    else:
        a.limits.append("Emplacements choisis pour couvrir le plus de demande non servie (couverture maximale) ; "
                        "ni le coût, ni le foncier, ni les porteurs de projet ne sont connus du calcul.")
    a.links = [(lab, href) for lab, href in (("Carte des priorités et des lieux proposés", links.get("priority", "")),
                                              ("Tableau des lieux proposés", f"tables/{SITES}")) if href]
    return a


def synthesis(tables: dict[str, pd.DataFrame], register: str, links: dict[str, str] | None = None,
              tables_href: str = "tables/") -> list[Answer]:
    """The four answers from the tables (file name → frame); ``register`` names the places' sources and vintages.

    ``links`` maps an atlas indicator key (spaces, access_distance, priority,
    territory_profiles) to its href; a link is omitted when absent.
    """
    lk = links or {}
    answers = [where_answer(tables, register, lk), lack_answer(tables, lk), models_answer(tables, lk),
               fund_answer(tables, lk)]
    for a in answers:
        a.links = [(lab, tables_href + h.removeprefix("tables/") if h.startswith("tables/") else h)
                   for lab, h in a.links]
    return answers


def synthesis_html(answers: list[Answer], dated: str, heading: str = "h2") -> str:
    """The synthesis section (HTML): one block per question with its sentences, links and limits."""
    out = [f'<section id="synthese" class="synthese"><{heading}>Synthèse pour décideurs</{heading}>',
           f'<p class="note">{html.escape(dated)}</p>']
    for a in answers:
        body = " ".join(a.sentences) or "Les tableaux nécessaires ne sont pas disponibles pour ce territoire."
        links = " · ".join(f'<a href="{html.escape(h)}">{html.escape(lab)}</a>' for lab, h in a.links)
        limits = "".join(f"<li>{x if '<b' in x else html.escape(x)}</li>" for x in a.limits)
        out.append(f'<div class="q" data-question="{a.key}"><h3>{html.escape(a.question)}</h3><p>{body}</p>'
                   f'<p class="links">Voir : {links}</p>'
                   f'<div class="limits"><b>Limites</b><ul>{limits}</ul></div></div>')
    out.append("</section>")
    return "".join(out)


def register_label(sources: list[Any], space_ids: list[str]) -> str:
    """'Mission Coworking (CGET), juin 2019 ; …' from the sources (``id``, ``publisher``, ``vintage``) of the places."""
    parts = []
    for s in sources:
        if s.id in space_ids:
            parts.append(f"{s.title}, {vintage_fr(s.vintage)}")
    return " ; ".join(parts) or "registre des lieux"


def dated_line(when: dt.datetime, territory_label: str) -> str:
    """'Orne (61) — chiffres calculés le 1 décembre 2026 à partir des tableaux de résultats.'"""
    return (f"{territory_label} — chiffres calculés le {when.day} {MONTHS_FR[when.month - 1]} {when.year} à partir "
            "des tableaux de résultats ; chaque chiffre renvoie à sa carte et à son tableau.")
