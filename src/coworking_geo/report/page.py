"""The HTML report: headline figures, tables, models, priorities, data quality, mission comparison, sources.

Every number shown comes from ``data/processed/{territory}/`` or
``results/{territory}/tables/``; each table cell and headline figure carries
its raw value in a ``data-value`` attribute, so tests can compare the page
with the tables. Numbers are displayed the French way ('1 463', '29,8 %').
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from coworking_geo.atlas.themes import fr_number, fr_percent
from coworking_geo.labels import (
    FEATURES_FR,
    TERRITORY_CLASS_FR,
    VALUE_MAPS,
    column_fr,
    column_kind,
    k_reason_fr,
    value_fr,
)
from coworking_geo.sources.catalogue import Source, title_for
from coworking_geo.spaces.titles import places_title
from coworking_geo.typology.space_models import fit_sentences
from coworking_geo.spaces.vocabulary import TYPE_LABELS_FR

TEMPLATE = Path(__file__).parent / "templates" / "report.html.j2"

# The 2018 mission's published figures (Mission Coworking, CGET 2018).
MISSION_PUBLISHED: dict[str, tuple[str, float]] = {
    "places_estimated": ("Lieux estimés par la mission (2018)", 1800),
    "places_found": ("Lieux recensés par la mission (2018) ; recalculé : la liste de 2019, avec ses 49 ajouts, "
                     "doublons fusionnés", 1463),
    "coworking_dominant_share": ("Part des lieux typés à dominante coworking", 0.76),
    "outside_metropolises_share": ("Part des lieux hors des 22 métropoles", 0.46),
}

# table file (results/{territory}/tables/) -> (section id, French title)
TABLES: list[tuple[str, str, str]] = [
    ("diagnosis_by_territory_class.csv", "diag_class", "Le diagnostic par classe de territoire"),
    ("diagnosis_by_region.csv", "diag_region", "Le diagnostic par région"),
    ("communes_by_territory_class.csv", "by_class", "Communes et population par classe de territoire"),
    ("communes_by_density_class.csv", "by_density", "Communes et population par classe de densité (grille INSEE)"),
    ("communes_by_region.csv", "by_region", "Communes et population par région"),
    ("access_by_class.csv", "access", "Accès aux espaces par classe de territoire"),
    ("fibre_summary.csv", "fibre", "Fibre (FttH) : synthèse"),
    ("commuting_summary.csv", "commuting", "Navettes domicile-travail : synthèse"),
    ("space_model_profiles.csv", "models", "Modèles de lieux : ce qu'ils font"),
    ("model_fit_by_territory_class.csv", "model_fit", "Quel modèle pour quel territoire ?"),
    ("space_model_scores.csv", "model_scores", "Modèles de lieux : choix du nombre de groupes"),
    ("territory_profiles_summary.csv", "profiles", "Profils de territoires"),
    ("territory_profile_scores.csv", "profile_scores", "Profils de territoires : choix du nombre de groupes"),
    ("priority_territories.csv", "priority", "Territoires prioritaires"),
    ("proposed_sites.csv", "sites", "Nouveaux lieux proposés"),
    ("spaces_quality.csv", "quality", "Qualité des données sur les espaces"),
    ("places_change.csv", "changes", "Évolution entre les listes de lieux"),
]
#: tables whose section is left out when they have no row (e.g. a single list of places: nothing to compare)
SKIP_WHEN_EMPTY = ("places_change.csv",)
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
        if v == 0:
            return "0"
        return fr_number(v, 1 if abs(v) >= 10 else 2 if abs(v) >= 0.1 else 4)
    return str(v)


def headline_figures(communes: pd.DataFrame, spaces: pd.DataFrame, indicators: pd.DataFrame,
                     programmes: pd.DataFrame, priority: pd.DataFrame | None, sites: pd.DataFrame | None,
                     radius_km: float = 10) -> list[Figure]:
    """The headline figures, computed from the processed tables.

    Places are the register's rows (every list and the programme laureates, each place once); the
    laureates are counted from the register's ``fabrique`` / ``manufacture`` ids when it has them.
    """
    pop = pd.to_numeric(communes["population"], errors="coerce")
    with_space = spaces["insee_code"].dropna().nunique()
    figs = [
        Figure("n_communes", "Communes", int(len(communes))),
        Figure("population", "Population", int(pop.sum())),
        Figure("n_spaces", places_title(spaces) + " : lieux, chacun compté une fois", int(len(spaces))),
        Figure("n_communes_with_space", "Communes avec au moins un lieu", int(with_space)),
    ]
    col = f"pop_within_{int(radius_km)}km"
    if col in indicators:
        within = pd.to_numeric(indicators[col], errors="coerce").sum()
        # over the population grid's population when known, like the diagnosis tables and the synthesis
        base = (pd.to_numeric(indicators["access_population"], errors="coerce").sum()
                if "access_population" in indicators else pop.sum())
        figs.append(Figure(f"share_pop_within_{int(radius_km)}km",
                           f"Part de la population à moins de {int(radius_km)} km d'un espace",
                           float(within / base) if base else None, "pct"))
    if {"fabrique", "manufacture"} <= set(spaces.columns) and "sources" in spaces:
        for key, col, label in (("n_fabriques", "fabrique", "Fabriques de territoire (lauréats)"),
                                ("n_manufactures", "manufacture", "Manufactures de proximité (lauréats)")):
            ids = spaces[col].astype("string").fillna("")
            figs.append(Figure(key, label, int(ids[ids.ne("")].str.count(";").sum() + ids.ne("").sum())))
    elif "programme" in programmes:
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


#: one or two French sentences at the top of each section: what the table says
GUIDES: dict[str, str] = {
    "diag_class": "L\u2019offre et les besoins par classe de territoire : nombre d\u2019espaces et d\u2019espaces pour "
                  "100 000 habitants, part de la population à moins de 10 km d\u2019un espace, part des locaux "
                  "raccordables à la fibre et navetteurs de longue distance (là où les flux sont connus).",
    "diag_region": "Les mêmes indicateurs par région.",
    "by_density": "Le même décompte selon la grille communale de densité de l\u2019INSEE : dense (niveau 1), "
                  "intermédiaire (2 à 4), rural (5 à 7).",
    "by_class": "Chaque ligne est une classe de territoire, lue sur deux zonages officiels de l\u2019INSEE : la "
                "grille communale de densité et les aires d\u2019attraction des villes (AAV 2020). Les classes "
                "rurales sont exactement les communes rurales de l\u2019INSEE (niveaux de densité 5 à 7, définition "
                "de 2021), réparties selon l\u2019influence d\u2019un pôle ; les « 22 métropoles » de la mission "
                "restent un indicateur à part.",
    "by_region": "Le même décompte par région : nombre de communes, population et leur part dans le total.",
    "access": "Quelle part de la population vit à moins de 5, 10 ou 20 km d\u2019un espace de coworking ou "
              "tiers-lieu, selon la classe de territoire. Les distances sont à vol d\u2019oiseau (en ligne droite, "
              "pas un temps de trajet routier) et restent dans la zone de chaque habitant : France continentale, "
              "Corse, chaque département d\u2019outre-mer ; aucune ne traverse la mer. Là où la zone n\u2019a aucun "
              "lieu (Mayotte), la population est comptée « aucun lieu dans le territoire » et n\u2019entre pas dans "
              "la distance moyenne, pondérée par la population. Outre-mer, faute de grille de population à 1 km, "
              "chaque commune est placée à son centroïde avec sa population légale.",
    "fibre": "Part des locaux raccordables à la fibre (FttH) pour chaque millésime lu ; les colonnes de contrôle "
             "des fichiers sources sont repliées sous le tableau.",
    "commuting": "Pour chaque fichier de flux domicile-travail lu : combien d\u2019actifs, quelle part travaille "
                 "hors de sa commune et combien font un long trajet.",
    "models": "Les lieux sont regroupés en modèles selon ce qu\u2019ils font (activités, labels de l\u2019État) et, "
              "quand cela ne reproduit pas la classe de territoire, la distance au lieu voisin ; la classe de "
              "territoire n\u2019entre jamais dans le calcul. Chaque ligne décrit un modèle en une phrase.",
    "model_fit": "Pour chaque modèle et chaque classe de territoire : combien de lieux, et combien de fois plus "
                 "(ou moins) fréquents qu\u2019attendu si les modèles se répartissaient comme l\u2019ensemble des "
                 "lieux (rapport 1 = comme l\u2019ensemble).",
    "model_scores": "Chaque ligne est un nombre de groupes essayé : la stabilité (le calcul refait sur des "
                    "rééchantillonnages retrouve-t-il les mêmes groupes ?) décide ; les trois scores de qualité "
                    "sont donnés à côté, avec le meilleur nombre de groupes selon chacun. Elle est calculée du plus "
                    "grand nombre de groupes au plus petit et s\u2019arrête au premier stable, qui est retenu : les "
                    "nombres plus petits, qui ne pouvaient plus l\u2019être, montrent un tiret.",
    "profiles": "Les communes sont regroupées en profils selon leur population, la fibre, la distance au premier "
                "espace, l\u2019accès et le niveau de vie ; chaque ligne décrit un profil.",
    "profile_scores": "Le même choix du nombre de groupes pour les profils de territoires.",
    "priority": "Comment la liste est faite : pour chaque commune où au moins la moitié des locaux est "
                "raccordable à la fibre, on compte les habitants des carreaux de 1 km situés à plus de 10 km à vol "
                "d\u2019oiseau de tout lieu de leur zone (outre-mer, faute de grille, toute la commune si son "
                "centre est à plus de 10 km ; à Mayotte, sans aucun lieu, toute la population), puis on multiplie "
                "par la part de locaux raccordables. Les places de la liste sont ensuite réparties entre les classes "
                "de territoire au prorata de ce total dans chaque classe (méthode de Sainte-Laguë) : le rural, où "
                "vit la plus grande part des habitants loin d\u2019un lieu, y a sa part, au lieu d\u2019être "
                "évincé par les villes dont chaque commune compte plus d\u2019habitants. Dans chaque classe, les "
                "communes sont prises dans l\u2019ordre de leurs habitants sans lieu à portée ; le rang est "
                "l\u2019ordre d\u2019entrée dans la liste, si bien que les 10 ou 20 premières sont déjà réparties "
                "ainsi. Ce qu\u2019elle n\u2019est pas : une mesure de la demande de coworking elle-même, ni un "
                "temps de trajet routier.",
    "sites": "Comment la liste est faite : chaque site est une commune fibrée choisie pour le nombre "
             "d\u2019habitants aujourd\u2019hui à plus de 10 km à vol d\u2019oiseau de tout lieu qu\u2019il "
             "mettrait à moins de 10 km (problème de couverture maximale ; les lieux existants restent en place) ; "
             "les sites sont rangés dans l\u2019ordre où ils ajoutent le plus d\u2019habitants, et chaque ligne "
             "donne les habitants nouvellement à portée, en plus des sites précédents. Ce qu\u2019elle n\u2019est "
             "pas : une adresse. Un site représente un bassin de 10 km autour du centre de la commune nommée, qui "
             "peut être un village ; le lieu pourrait s\u2019installer dans toute commune du bassin.",
    "changes": "Quand deux millésimes d\u2019une même sorte de liste sont lus (la liste CGET de 2019 et un "
               "recensement France Tiers-Lieux), les lieux ne s\u2019additionnent pas : chaque ligne dit, par classe "
               "de territoire et région, combien de lieux sont dans les deux listes, seulement dans l\u2019ancienne "
               "(fermés ou non recensés) ou seulement dans la récente (ouverts depuis, ou nouveaux dans la liste).",
    "quality": "Combien de lignes de chaque registre d\u2019espaces ont été retenues, fusionnées ou rejetées ; "
               "le détail des corrections est replié sous le tableau.",
}
#: per table, columns moved to the collapsed « Détail technique » (regular expressions, full match)
TECHNICAL: dict[str, str] = {
    "access_by_class.csv": r"raster_.*|communes_centroid|pop_within_.*",
    "fibre_summary.csv": r"source_.*|plm_missing|shares_over_100|kind",
    "commuting_summary.csv": r"rows|out_of_coverage_dropped|residence_codes_unmatched|flows_residence_unmatched|"
                             r"flows_destination_unlocated|communes_absent_from_flows|flows_total|source|note",
    "space_model_profiles.csv": r"z_.*",
    "model_fit_by_territory_class.csv": r"expected|fisher_p|chi2.*|cramers_v|model_id",
    "space_model_scores.csv": r"method|bic|n_clusters|n_noise|reason|stability_min|best_k_.*",
    "territory_profiles_summary.csv": r"z_.*",
    "territory_profile_scores.csv": r"method|bic|n_clusters|n_noise|reason|stability_min|best_k_.*|unit|stability_ari",
    "priority_territories.csv": r"flows_covered|demand_source|dep_code|score|no_place_in_zone|group_share",
    "proposed_sites.csv": r"lon|lat|cumulative_demand|marginal_demand|n_points_covered|dep_code",
    "spaces_quality.csv": r"fix_.*|notes?|balanced|outside_territory|(?!input_rows|kept|merged|rejected|source).*",
}
#: columns shown once as a sentence above the table when they hold one value for all rows
CONSTANT_COLUMNS = ("k_reason", "chosen_k", "unit", "features", "stability_ari", "models_scope", "typology_unstable",
                    "ari_territory_class", "ari_class_x_type")
#: French sentences written above a table, from the table itself
SECTION_TEXT: dict[str, Any] = {"model_fit_by_territory_class.csv": fit_sentences}


def _raw(v: Any) -> Any:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v) else v


def cell_display(col: str, v: Any) -> str:
    """French display of one cell of column ``col`` (translated code, or number of the column's kind)."""
    raw = _raw(v)
    if raw == "":
        return "–"
    fr = value_fr(col, raw)
    if fr is not None:
        return fr
    kind = column_kind(col)
    if kind == "km" and isinstance(raw, int | float) and not isinstance(raw, bool):
        return fr_number(raw, 1)
    if isinstance(raw, float) and kind in ("int", "auto") and raw.is_integer() and abs(raw) >= 1:
        return fr_number(raw)
    if kind == "int" and isinstance(raw, float):
        if abs(raw) >= 100:
            return fr_number(raw, 0)
        kind = "auto"
    return format_value(raw, kind if isinstance(raw, int | float) and not isinstance(raw, bool) else "auto")


def feature_fr(f: str) -> str:
    """French name of a clustering variable, including the one-hot ``class_*`` and ``type_*`` columns."""
    if f in FEATURES_FR:
        return FEATURES_FR[f]
    if f.startswith("class_"):
        return f"classe « {TERRITORY_CLASS_FR.get(f[6:], f[6:].replace('_', ' '))} »"
    if f.startswith("type_"):
        return f"type « {TYPE_LABELS_FR.get(f[5:], f[5:].replace('_', ' '))} »"
    return f.replace("_", " ")


def constant_sentence(col: str, v: Any, chosen_k: Any = None) -> str:
    """French sentence for a column holding one value for every row."""
    if col == "k_reason":
        return k_reason_fr(str(v), chosen_k)
    if col == "chosen_k":
        return f"Nombre de groupes retenu : {v}."
    if col == "unit":
        return f"Unité statistique : {value_fr('unit', v) or v}."
    if col == "features":
        return "Variables utilisées : " + ", ".join(feature_fr(f) for f in str(v).split(";")) + "."
    if col == "models_scope":
        return ("Ce territoire compte trop peu de lieux pour une typologie propre : ses lieux reçoivent les modèles "
                "nationaux, calculés sur l\u2019ensemble des lieux localisés de France (activités et distance au lieu "
                "voisin)." if v == "national" else "Modèles calculés sur les lieux du territoire.")
    if col == "typology_unstable":
        return ("Typologie instable : refaite sur des rééchantillonnages, elle ne retrouve pas les mêmes groupes "
                "(indice de Rand ajusté inférieur à 0,6) ; à lire avec prudence." if str(v).lower() == "true"
                else "Typologie stable (indice de Rand ajusté d\u2019au moins 0,6 sur rééchantillonnages).")
    if col == "ari_territory_class":
        return (f"Accord entre les modèles et la classe de territoire : {format_value(v)} (indice de Rand ajusté ; "
                "0 = sans rapport, 1 = identiques ; un modèle qui ne ferait que redire la classe serait proche de 1).")
    if col == "ari_class_x_type":
        return (f"Accord entre les modèles et le simple croisement classe de territoire × type de lieu : "
                f"{format_value(v)}.")
    if col == "stability_ari":
        return (f"Stabilité de la partition (indice de Rand ajusté sur rééchantillonnages, 1 = parfaite) : "
                f"{format_value(v)}.")
    return f"{column_fr(col)} : {format_value(v)}."


def _rows_html(df: pd.DataFrame, cols: list[str]) -> str:
    def numeric(c: str) -> bool:
        return pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) and c not in VALUE_MAPS

    num_cls = ' class="num"'
    head = "".join(f'<th{num_cls if numeric(c) else ""} data-col="{html.escape(c)}">'
                   f"{html.escape(column_fr(c))}</th>" for c in cols)
    body = []
    for i, row in enumerate(df[cols].itertuples(index=False)):
        cells = []
        for c, v in zip(cols, row, strict=True):
            raw = _raw(v)
            num = isinstance(raw, int | float) and not isinstance(raw, bool) and value_fr(c, raw) is None
            cls = ' class="num"' if num or (raw == "" and numeric(c)) else ""  # a missing number's dash aligns too
            cells.append(f'<td{cls} data-col="{html.escape(c)}" data-value="{html.escape(str(raw))}">'
                         f"{html.escape(cell_display(c, v))}</td>")
        body.append(f'<tr data-row="{i}">' + "".join(cells) + "</tr>")
    return f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"


def split_columns(df: pd.DataFrame, name: str) -> tuple[list[str], list[str], list[str]]:
    """(constant, shown, technical) columns of table ``name``: constants are written once as a sentence,
    technical columns (source-file controls, standardised scores…) stay in the downloadable CSV only."""
    consts = [c for c in CONSTANT_COLUMNS if c in df and len(df) > 1 and df[c].nunique(dropna=False) == 1]
    pattern = re.compile(TECHNICAL.get(name, r"(?!)"))
    rest = [c for c in df.columns if c not in consts]
    tech = [c for c in rest if pattern.fullmatch(str(c))]
    main = [c for c in rest if c not in tech] or tech[:1]
    return consts, main, [c for c in tech if c not in main]


def table_html(df: pd.DataFrame, name: str, max_rows: int = MAX_ROWS) -> str:
    """A French HTML table; each cell holds its raw value in ``data-value`` and its column in ``data-col``.

    Columns holding one value for every row (model-selection reason, unit…) are
    written once as a sentence (``data-const``); purely technical columns are not
    shown (a note says how many the CSV file holds).
    """
    shown = df.head(max_rows)
    consts, main, tech = split_columns(shown, name)
    k = shown["chosen_k"].iloc[0] if "chosen_k" in shown and len(shown) else None
    out = []
    for c in consts:
        v = _raw(shown[c].iloc[0])
        text = "" if c == "chosen_k" and "k_reason" in consts else constant_sentence(c, v, k)
        out.append(f'<p class="const" data-const="{html.escape(name)}" data-col="{html.escape(c)}" '
                   f'data-value="{html.escape(str(v))}">{html.escape(text)}</p>')
    n = len(shown)
    out.append(f'<div class="tw"><table data-table="{html.escape(name)}" data-part="main" data-rows="{n}">'
               f"{_rows_html(shown, main)}</table></div>")
    if tech:
        out.append(f'<p class="more" data-technical="{html.escape(name)}" data-n="{len(tech)}">'
                   f"{fr_number(len(tech))} colonne{'s' if len(tech) > 1 else ''} de contrôle technique "
                   f"{'sont' if len(tech) > 1 else 'est'} dans le fichier CSV téléchargeable.</p>")
    if len(df) > max_rows:
        out.append(f'<p class="more">{fr_number(len(df) - max_rows)} lignes de plus dans le fichier '
                   f"{html.escape(name)}.</p>")
    return "".join(out)


def rural_agreement(tables: dict[str, pd.DataFrame]) -> str:
    """One sentence relating the class table to the density table: the rural classes sum to the rural density row."""
    from coworking_geo.territories.classify import RURAL_CLASSES

    by_class, by_density = tables.get("communes_by_territory_class.csv"), tables.get("communes_by_density_class.csv")
    if by_class is None or by_density is None:
        return ""
    rural_cls = by_class[by_class["territory_class"].isin(RURAL_CLASSES)]
    rural_dens = by_density[by_density["density_class"].eq("rural")]
    n, pop = int(rural_cls["communes"].sum()), int(rural_cls["population"].sum())
    same = n == int(rural_dens["communes"].sum()) and pop == int(rural_dens["population"].sum())
    return (f"Les classes rurales du tableau précédent réunissent {fr_number(n)} communes et {fr_number(pop)} "
            f"habitants, {'exactement' if same else 'à la différence de'} la ligne « Commune rurale » de ce tableau.")


def section_title(title: str, df: pd.DataFrame) -> str:
    """The section title, with « (typologie instable) » when the table says the typology is unstable."""
    if "typology_unstable" in df and df["typology_unstable"].astype(str).str.lower().eq("true").any():
        return f"{title} (typologie instable)"
    return title


def section_text(name: str, df: pd.DataFrame) -> str:
    """French paragraphs built from the table ``name`` (``SECTION_TEXT``), each with ``data-sentence``."""
    make = SECTION_TEXT.get(name)
    if make is None or df.empty:
        return ""
    return "".join(f'<p class="sentence" data-sentence="{html.escape(name)}">{html.escape(t)}</p>' for t in make(df))


def render_report(title: str, territory: str, figures: list[Figure], mission: list[dict[str, Any]],
                  tables: dict[str, pd.DataFrame], sources: list[Source], atlas_link: str | None = "atlas/index.html",
                  generated: str = "", territory_label: str | None = None, synthesis: str = "",
                  downloads: list[tuple[str, str]] | None = None) -> str:
    """The report page (HTML) from its parts; ``synthesis`` (HTML, :mod:`coworking_geo.report.synthesis`) comes first;
    ``downloads``: (relative link, French label) of the files offered for download (the register's places)."""
    label = territory_label or {"france": "France", "demo": "démonstration (données de démonstration synthétiques)"}.get(
        territory, territory)
    env = jinja2.Environment(autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    tpl = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    guides = {**GUIDES, "by_density": " ".join(filter(None, [GUIDES["by_density"], rural_agreement(tables)]))}
    sections = [{"id": sid, "title": section_title(t, tables[f]), "file": f,
                 "html": jinja2.utils.markupsafe.Markup(section_text(f, tables[f]) + table_html(tables[f], f)),
                 "n": len(tables[f]), "guide": guides.get(sid, "")} for f, sid, t in TABLES
                if f in tables and not (f in SKIP_WHEN_EMPTY and tables[f].empty)]
    sites_summary = tables.get("proposed_sites_summary.csv")
    for s in sections:  # the sites' run in one French sentence (number of sites, population reached, demand used)
        if s["id"] == "sites" and sites_summary is not None and "text" in sites_summary and len(sites_summary):
            s["guide"] = f"{s['guide']} {sites_summary['text'].iloc[0]}"
    demo = territory == "demo"
    return tpl.render(title=title_for(title, territory), territory=territory, figures=figures, mission=mission,
                      fmt=format_value, sections=sections, sources=sources, demo=demo, atlas_link=atlas_link,
                      generated=generated, territory_label=label, downloads=downloads or [],
                      synthesis=jinja2.utils.markupsafe.Markup(synthesis))
