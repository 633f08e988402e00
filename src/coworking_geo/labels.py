"""French labels of the codes and column names shown to readers (maps, report).

One place for what a policymaker reads: territory classes, density classes,
source identifiers, booleans and the headers of the results tables. Codes
stay English/ASCII in the tables; only their display is translated.
"""

from __future__ import annotations

import re

TERRITORY_CLASS_FR: dict[str, str] = {
    "metropole": "Grande agglomération", "ville_moyenne": "Ville moyenne", "petite_ville": "Petite ville",
    "periurbain": "Couronne périurbaine", "rural_sous_influence": "Rural sous influence d\u2019un pôle",
    "rural_autonome_peu_dense": "Rural autonome peu dense",
    "rural_autonome_tres_peu_dense": "Rural autonome très peu dense",
    "rural_influence_inconnue": "Rural (influence d\u2019un pôle non renseignée)",
    "unknown": "Classe inconnue", "total": "Total", "all": "Ensemble",
}
DENSITY_CLASS_FR: dict[str, str] = {
    "dense": "Commune dense", "intermediate": "Densité intermédiaire", "rural": "Commune rurale",
    "total": "Total",
}
SOURCE_FR: dict[str, str] = {
    "cget_tierslieux_2019": "Mission Coworking (CGET, 2019)",
    "france_tierslieux_2026": "France Tiers-Lieux (recensement)",
    "france_tierslieux_2023": "France Tiers-Lieux (recensement 2023)",
    "anct_fabriques_territoire": "Fabriques de territoire (ANCT, lauréats 2024)",
    "anct_manufactures_proximite": "Manufactures de proximité (ANCT, lauréats 2024)",
    "insee_mobpro_idf_rp2014": "MOBPRO Île-de-France (RP 2014)",
    "insee_mobpro_orne": "MOBPRO Orne (fichier détail)",
    "none": "Aucune (hors du champ des flux lus)", "total": "Total",
}
#: other coded values (status, methods, kinds) shown in tables
VALUE_FR: dict[str, str] = {
    "population": "population", "long_commuters": "navetteurs de longue distance",
    "counts": "comptages", "share_only": "part seule", "commune": "commune", "epci": "intercommunalité",
    "national": "France entière", "optimal": "optimale", "matched": "rapproché", "distinct": "distinct",
    "latest": "dernier trimestre", "outside coverage": "Hors du champ des flux lus", "all": "Ensemble",
}
#: French names of the clustering variables
FEATURES_FR: dict[str, str] = {
    "log_population": "population", "long_commuter_share": "part de longs trajets", "fibre_share": "part FttH",
    "log_dist_nearest_space": "distance à l\u2019espace le plus proche", "access_2sfca": "score d\u2019accès 2SFCA",
    "density_level": "densité", "log_pop_around": "population alentour", "log_employed_around": "actifs alentour",
    "share_outside": "part travaillant hors commune", "log_dist_other_space": "distance à l\u2019espace voisin",
    "log_dist_metropolis": "distance à une métropole", "programme": "label Fabrique/Manufacture",
    "type_coworking": "activité coworking", "type_fablab": "activité fab-lab", "type_atelier": "atelier partagé",
    "type_nourricier": "activité nourricière", "type_culturel": "activité culturelle",
    "type_numerique": "médiation numérique", "type_autre": "autre activité",
    "fabrique": "label Fabrique de territoire", "manufacture": "label Manufacture de proximité",
    "median_income": "niveau de vie médian", "poverty_rate": "taux de pauvreté",
}

#: French header of each results-table column (unlisted columns keep a readable fallback)
COLUMNS_FR: dict[str, str] = {
    "territory_class": "Classe de territoire", "density_class": "Classe de densité",
    "dominant_territory_class": "Classe dominante", "dominant_class_share": "Part de la classe dominante",
    "communes": "Communes", "population": "Population", "communes_share": "Part des communes",
    "population_share": "Part de la population", "reg_code": "Code région", "reg_name": "Région",
    "dep_code": "Dépt", "insee_code": "Code commune", "name": "Commune",
    "pop_within_5km": "Population à moins de 5 km", "pop_within_10km": "Population à moins de 10 km",
    "pop_within_20km": "Population à moins de 20 km", "share_within_5km": "Part à moins de 5 km",
    "share_within_10km": "Part à moins de 10 km", "share_within_20km": "Part à moins de 20 km",
    "pop_weighted_dist_km": "Distance moyenne pondérée, à vol d'oiseau (km)",
    "population_no_place_in_zone": "Population sans aucun lieu dans le territoire",
    "uncovered_population": "Habitants sans lieu à portée", "no_place_in_zone": "Aucun lieu dans le territoire",
    "new_population_served": "Habitants nouvellement à portée",
    "cumulative_population_served": "Habitants à portée (cumul)", "communes_centroid": "Communes placées au centroïde",
    "vintage": "Millésime", "kind": "Nature", "communes_with_value": "Communes renseignées",
    "premises": "Locaux", "ftth": "Locaux raccordables FttH", "share": "Part",
    "shares_over_100": "Parts > 100 % (plafonnées)",
    "source": "Source", "label": "Fichier", "flows_total": "Actifs (flux lus)", "note": "Remarque",
    "communes_covered": "Communes couvertes", "communes_absent_from_flows": "Communes absentes des flux",
    "employed_residents": "Actifs occupés résidents", "share_outside": "Part travaillant hors commune",
    "long_commuters": "Navetteurs de longue distance",
    "model_id": "N°", "model_name": "Modèle", "n_spaces": "Espaces", "share_coworking": "Part coworking",
    "share_fablab": "Part fab-lab", "share_tiers-lieu": "Part tiers-lieu",
    "median_dist_other_space_km": "Distance médiane à l'espace voisin (km)",
    "median_dist_metropolis_km": "Distance médiane à une métropole (km)",
    "mean_pop_around": "Population alentour (moyenne)", "mean_fibre_share": "Part FttH (moyenne)",
    "mean_share_outside": "Part travaillant hors commune (moyenne)", "mean_density_level": "Niveau de densité (moyen, 1–7)",
    "chosen_k": "Nombre de groupes retenu", "k_reason": "Choix du nombre de groupes",
    "share_fabrique": "Part Fabriques de territoire",
    "share_atelier": "Part atelier partagé", "share_nourricier": "Part nourricier", "share_culturel": "Part culturel",
    "share_numerique": "Part médiation numérique", "share_autre": "Part autre activité",
    "share_manufacture": "Part Manufactures de proximité", "median_pop_around": "Population alentour (médiane)",
    "n_spaces_territory": "Lieux du territoire", "n_places": "Lieux", "class_share": "Part dans l'ensemble des lieux",
    "expected": "Attendu", "lift": "Rapport observé / attendu", "fisher_p": "p (Fisher)", "chi2": "khi²",
    "chi2_dof": "ddl", "chi2_p": "p (khi²)", "cramers_v": "V de Cramér", "k": "Nombre de groupes",
    "silhouette": "Silhouette", "calinski_harabasz": "Calinski-Harabasz", "davies_bouldin": "Davies-Bouldin",
    "stability": "Stabilité (ARI)", "stability_min": "Stabilité minimale (ARI)",
    "cluster_jaccard": "Stabilité du groupe le moins stable (Jaccard)", "chosen": "Retenu",
    "mean_median_income": "Niveau de vie médian (moyenne, €)", "mean_poverty_rate": "Taux de pauvreté (moyen, %)",
    "profile_id": "N°", "profile_name": "Profil", "unit": "Unité", "n_units": "Unités",
    "mean_population": "Population (moyenne)", "mean_long_commuter_share": "Part de longs trajets (moyenne)",
    "median_dist_nearest_space_km": "Distance médiane à l'espace le plus proche (km)",
    "mean_access_2sfca": "Score 2SFCA (moyen)", "features": "Variables", "stability_ari": "Stabilité (ARI)",
    "rank": "Rang", "site_rank": "Rang", "group_rank": "Rang dans sa classe",
    "group_share": "Part de la classe dans la population non couverte", "flows_covered": "Flux domicile-travail lus", "demand": "Demande",
    "demand_source": "Demande mesurée par", "fibre_share": "Part FttH", "dist_nearest_space_km":
    "Distance à l'espace le plus proche (km)", "score": "Score", "lon": "Longitude", "lat": "Latitude",
    "marginal_demand": "Demande ajoutée", "cumulative_demand": "Demande cumulée",
    "assigned_demand": "Demande affectée", "assigned_population": "Population desservie",
    "n_communes_covered": "Communes desservies", "input_rows": "Lignes lues", "kept": "Retenues",
    "merged": "Fusionnées (doublons)", "rejected": "Rejetées", "outside_territory": "Hors territoire",
    "balanced": "Bilan équilibré", "indicator": "Indicateur", "description": "Description",
    "published": "Publié (2018)", "ours": "Recalculé", "numerator": "Numérateur", "denominator": "Dénominateur",
    "difference_pts": "Écart (points)", "scope": "Périmètre", "total": "Total",
    **{k: v for k, v in TERRITORY_CLASS_FR.items() if k not in ("total", "all")},
    "spaces": "Espaces", "spaces_per_100k": "Espaces pour 100 000 hab.",
    "communes_with_space": "Communes avec un espace",
    "communes_with_flows": "Communes couvertes par les flux",
    "older": "Liste la plus ancienne", "newer": "Liste la plus récente", "older_year": "Année (ancienne)",
    "newer_year": "Année (récente)", "in_both": "Lieux dans les deux listes",
    "only_older": "Lieux absents de la liste récente (fermés ou non recensés)",
    "only_newer": "Lieux absents de la liste ancienne", "opened": "dont ouverts depuis",
    "new_to_list": "dont nouveaux dans la liste",
}

#: columns whose values are codes translated through a dictionary above
VALUE_MAPS: dict[str, dict[str, str]] = {
    "territory_class": TERRITORY_CLASS_FR, "dominant_territory_class": TERRITORY_CLASS_FR,
    "density_class": DENSITY_CLASS_FR, "source": SOURCE_FR, "demand_source": VALUE_FR, "kind": VALUE_FR,
    "unit": VALUE_FR, "scope": VALUE_FR, "vintage": VALUE_FR, "status": VALUE_FR, "label": VALUE_FR,
    "older": SOURCE_FR, "newer": SOURCE_FR,
}


def column_fr(col: str) -> str:
    """French header of a column; unknown columns: underscores become spaces."""
    if col in COLUMNS_FR:
        return COLUMNS_FR[col]
    if col.startswith("z_"):
        return f"Écart réduit : {FEATURES_FR.get(col[2:]) or column_fr(col[2:])}"
    radius = re.fullmatch(r"population_share_within_(\d+(?:\.\d+)?)km", col)
    if radius:
        return f"Part de la population à moins de {radius.group(1)} km d\u2019un espace"
    if col.startswith("fix_"):
        return "Correction : " + col[4:].replace("_", " ")
    return col.replace("_", " ")


def value_fr(col: str, value: object) -> str | None:
    """French label of a coded value of column ``col``, or None when it is not a known code."""
    mapping = VALUE_MAPS.get(col)
    if mapping is None or value is None:
        return None
    if col == "vintage" and re.fullmatch(r"\d{4}[tT]\d", str(value)):
        return f"{str(value)[:4]} T{str(value)[-1]}"
    return mapping.get(str(value))


def column_kind(col: str) -> str:
    """How to show a column's numbers: 'pct' (0–1 shares), 'km', 'int' or 'auto'."""
    if col in ("published", "ours"):
        return "auto"
    if col.startswith("z_") or col in ("stability_ari", "difference_pts", "mean_density_level", "score"):
        return "auto"
    if "share" in col and not col.startswith("shares_over"):
        return "pct"
    if col.endswith("_km"):
        return "km"
    if col in ("lon", "lat"):
        return "auto"
    return "int"


_K_REASON = re.compile(r"k=(\d+) has the best mean rank \(([\d.]+)\) over (\d+) criteria among k=(\d+)\.\.(\d+)")
_K_STABLE = re.compile(r"k=(\d+): (largest k|no k reaches).*?\(ARI ([\d.na]+)\) among k=(\d+)\.\.(\d+); best k by (.*?)(?: \[|$)")
_SCORES_FR = {"silhouette": "silhouette", "calinski_harabasz": "Calinski-Harabasz", "davies_bouldin": "Davies-Bouldin",
              "bic": "BIC"}


def k_reason_fr(reason: str, k: object | None = None) -> str:
    """A French sentence for the clustering module's model-selection reason (English)."""
    m = _K_STABLE.search(str(reason))
    if m:
        kk, how, ari, lo, hi, tops = m.groups()
        best = " ; ".join(f"{_SCORES_FR.get(w.split()[0], w.split()[0])} : {w.split()[-1]}"
                         for w in tops.split(", ") if w.strip() and w != "no score")
        s = f"Nombre de groupes retenu : {kk}, parmi les partitions de {lo} à {hi} groupes. "
        s += ("C'est le plus grand nombre de groupes qui reste stable quand on refait le calcul sur des "
              "rééchantillonnages" if how == "largest k" else
              "Aucun nombre de groupes n'atteint le seuil de stabilité : c'est le plus stable")
        s += f" (indice de Rand ajusté {ari.replace('.', ',')}, 1 = partition identique)."
        if best:
            s += f" Meilleur nombre de groupes selon chaque score : {best}."
        if "end of the range" in str(reason):
            s += " Attention : c'est une borne de l'intervalle testé."
        if "unstable" in str(reason):
            s += " Typologie instable : à lire avec prudence."
        if "fixed by configuration" in str(reason):
            fixed = k if k is not None else str(reason).split()[0].removeprefix("k=")
            s = (f"Nombre de groupes fixé par la configuration : {fixed}. Sans cela : "
                 + s.replace("Nombre de groupes retenu : ", "", 1))
        return s
    m = _K_REASON.search(str(reason))
    if m:
        kk, rank, n, lo, hi = m.groups()
        s = (f"Nombre de groupes retenu : {kk}. Parmi les partitions de {lo} à {hi} groupes, c'est celle qui a le "
             f"meilleur rang moyen ({rank.replace('.', ',')}) sur {n} critères de qualité "
             "(silhouette, Calinski-Harabasz, Davies-Bouldin).")
        if "upper end of the range" in str(reason):
            s += " C'est la borne haute de l'intervalle testé : davantage de groupes pourrait faire mieux."
        return s
    if k is not None:
        return f"Nombre de groupes retenu : {k}."
    return "Nombre de groupes retenu : voir le détail technique."
