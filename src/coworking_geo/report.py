"""The HTML report: headline figures, tables, models, priorities, data quality, mission comparison, sources.

Every number shown comes from ``data/processed/{territory}/`` or
``results/{territory}/tables/``; each table cell and headline figure carries
its raw value in a ``data-value`` attribute, so tests can compare the page
with the tables. Numbers are displayed the French way ('1 463', '29,8 %').
"""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from coworking_geo.atlas.themes import fr_number, fr_percent
from coworking_geo.sources import Source, title_for

TEMPLATE = Path(__file__).parent / "templates" / "report.html.j2"

# The 2018 mission's published figures (Mission Coworking, CGET 2018).
MISSION_PUBLISHED: dict[str, tuple[str, float]] = {
    "places_estimated": ("Lieux estimés par la mission (2018)", 1800),
    "places_found": ("Lieux recensés par la mission (2018)", 1463),
    "coworking_dominant_share": ("Part des lieux typés à dominante coworking", 0.76),
    "outside_metropolises_share": ("Part des lieux hors des 22 métropoles", 0.46),
}

# table file (results/{territory}/tables/) -> (section id, French title)
TABLES: list[tuple[str, str, str]] = [
    ("communes_by_territory_class.csv", "by_class", "Communes, espaces et indicateurs par classe de territoire"),
    ("communes_by_region.csv", "by_region", "Communes, espaces et indicateurs par région"),
    ("access_by_class.csv", "access", "Accès aux espaces par classe de territoire"),
    ("fibre_summary.csv", "fibre", "Fibre (FttH) : synthèse"),
    ("commuting_summary.csv", "commuting", "Navettes domicile-travail : synthèse"),
    ("space_model_profiles.csv", "models", "Modèles d'espaces et leurs profils"),
    ("territory_profiles_summary.csv", "profiles", "Profils de territoires"),
    ("priority_territories.csv", "priority", "Territoires prioritaires"),
    ("proposed_sites.csv", "sites", "Nouveaux lieux proposés"),
    ("spaces_quality.csv", "quality", "Qualité des données sur les espaces"),
    ("mission_shares.csv", "mission", "Comparaison avec la mission de 2018 (tableau du workflow)"),
]
MAX_ROWS = 60


@dataclass
class Figure:
    """A headline figure: key, French label, raw value and how to show it (int, pct, km, float)."""

    key: str
    label: str
    value: float | int | None
    kind: str = "int"

    def display(self) -> str:
        """The value formatted in French."""
        return format_value(self.value, self.kind)


def format_value(v: Any, kind: str = "auto") -> str:
    """French display of a number (int, pct for 0–1 shares, km, float) or the text itself."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, bool):
        return "oui" if v else "non"
    if kind == "pct":
        return fr_percent(float(v))
    if kind == "km":
        return f"{fr_number(float(v), 1)}\u202fkm"
    if isinstance(v, int) or (kind == "int" and float(v).is_integer()):
        return fr_number(int(v))
    if isinstance(v, float):
        return fr_number(v, 1 if abs(v) >= 10 else 2 if abs(v) >= 0.1 else 4)
    return str(v)


def headline_figures(communes: pd.DataFrame, spaces: pd.DataFrame, indicators: pd.DataFrame,
                     programmes: pd.DataFrame, priority: pd.DataFrame | None, sites: pd.DataFrame | None,
                     radius_km: float = 10) -> list[Figure]:
    """The headline figures, computed from the processed tables."""
    pop = pd.to_numeric(communes["population"], errors="coerce")
    with_space = spaces["insee_code"].dropna().nunique()
    figs = [
        Figure("n_communes", "Communes", int(len(communes))),
        Figure("population", "Population", int(pop.sum())),
        Figure("n_spaces", "Espaces de coworking et tiers-lieux", int(len(spaces))),
        Figure("n_communes_with_space", "Communes avec au moins un espace", int(with_space)),
    ]
    col = f"pop_within_{int(radius_km)}km"
    if col in indicators:
        within = pd.to_numeric(indicators[col], errors="coerce").sum()
        figs.append(Figure(f"share_pop_within_{int(radius_km)}km",
                           f"Part de la population à moins de {int(radius_km)} km d'un espace",
                           float(within / pop.sum()) if pop.sum() else None, "pct"))
    if "programme" in programmes:
        prog = programmes["programme"].astype(str).str.lower()
        figs.append(Figure("n_fabriques", "Fabriques de territoire (lauréats)", int(prog.str.startswith("fabri").sum())))
        figs.append(Figure("n_manufactures", "Manufactures de proximité (lauréats)",
                           int(prog.str.startswith("manuf").sum())))
    if priority is not None:
        figs.append(Figure("n_priority", "Territoires prioritaires", int(len(priority))))
    if sites is not None:
        figs.append(Figure("n_new_sites", "Nouveaux lieux proposés", int(len(sites))))
    return figs


MISSION_SHARES_KEYS = {"coworking_dominant_share": "coworking_share_of_typed",
                       "outside_metropolises_share": "outside_metropolises_share"}


def mission_comparison(spaces: pd.DataFrame, communes: pd.DataFrame, mission_shares: pd.DataFrame | None = None,
                       source_id: str = "cget_tierslieux_2019") -> list[dict[str, Any]]:
    """Published 2018 figures beside the same figures recomputed from the mission's list.

    The shares are taken from the spaces stage's ``mission_shares.csv`` when given
    (indicator ``coworking_share_of_typed`` / ``outside_metropolises_share``, column ``ours``).

    Coworking-dominant share: spaces of the mission's list whose first type is
    ``coworking``, among those with a type. Outside metropolises: spaces whose
    commune is not in one of the 22 metropolises (``communes.metropolis``).
    """
    s = spaces[spaces["source"].astype(str).eq(source_id)] if "source" in spaces else spaces
    first = s["types"].fillna("").astype(str).str.split(";").str[0].str.strip()
    typed = first[first.ne("")]
    metro = s["insee_code"].map(communes.drop_duplicates("insee_code").set_index("insee_code")["metropolis"])
    metro = metro.astype("boolean")
    ours = {
        "places_estimated": None,
        "places_found": int(len(s)),
        "coworking_dominant_share": float(typed.eq("coworking").mean()) if len(typed) else None,
        "outside_metropolises_share": float((~metro.dropna()).mean()) if metro.notna().any() else None,
    }
    if mission_shares is not None and {"indicator", "ours"} <= set(mission_shares.columns):
        ms = mission_shares.set_index("indicator")["ours"]
        for key, ind in MISSION_SHARES_KEYS.items():
            if ind in ms.index:
                ours[key] = float(ms[ind])
    rows = []
    for key, (label, published) in MISSION_PUBLISHED.items():
        kind = "pct" if key.endswith("share") else "int"
        rows.append({"key": key, "label": label, "published": published, "ours": ours[key], "kind": kind})
    return rows


def table_html(df: pd.DataFrame, name: str, max_rows: int = MAX_ROWS) -> str:
    """An HTML table; each cell holds its raw value in ``data-value``, numbers shown in French."""
    shown = df.head(max_rows)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    body = []
    for row in shown.itertuples(index=False):
        cells = []
        for v in row:
            raw = "" if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v) else v
            num = isinstance(raw, int | float) and not isinstance(raw, bool)
            cls = ' class="num"' if num else ""
            cells.append(f'<td{cls} data-value="{html.escape(str(raw))}">{html.escape(format_value(v))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (f'<p class="more">{fr_number(len(df) - max_rows)} lignes de plus dans le fichier {html.escape(name)}.</p>'
            if len(df) > max_rows else "")
    return (f'<table data-table="{html.escape(name)}" data-rows="{len(shown)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>{more}")


def read_result_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a results CSV with code columns kept as text."""
    df = pd.read_csv(path, dtype={c: str for c in ("insee_code", "dep_code", "reg_code", "epci_code", "code")},
                     encoding="utf-8")
    return df


def render_report(title: str, territory: str, figures: list[Figure], mission: list[dict[str, Any]],
                  tables: dict[str, pd.DataFrame], sources: list[Source], atlas_link: str | None = "atlas/index.html",
                  generated: str = "") -> str:
    """The report page (HTML) from its parts."""
    env = jinja2.Environment(autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    tpl = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    sections = [{"id": sid, "title": t, "file": f, "html": jinja2.utils.markupsafe.Markup(table_html(tables[f], f)),
                 "n": len(tables[f])} for f, sid, t in TABLES if f in tables]
    demo = territory == "demo"
    return tpl.render(title=title_for(title, territory), territory=territory, figures=figures, mission=mission,
                      fmt=format_value, sections=sections, sources=sources, demo=demo, atlas_link=atlas_link,
                      generated=generated)
