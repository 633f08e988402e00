"""Snakemake script: under-served territories and proposed sites (maximal covering location) from the 1 km grid."""

import geopandas as gpd
import pandas as pd

from coworking_geo.indicators.access import commune_zones, demand_points
from coworking_geo.io import read_table, write_csv
from coworking_geo.log import snakemake_script
from coworking_geo.typology.siting import allocate, demand_column, priority_territories, siting_summary
from coworking_geo.sources.catalogue import load_sources, provenance
from coworking_geo.typology.territory_profiles import commune_table

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    p = smk.params
    communes = gpd.read_parquet(smk.input.communes)
    spaces = gpd.read_parquet(smk.input.spaces)
    table = commune_table(communes, read_table(smk.input.indicators), pd.DataFrame(spaces.drop(columns="geometry")))
    prov = provenance(load_sources(smk.input.sources_yaml), list(p.source_ids), p.territory,
                      "Où ouvrir les prochains lieux : territoires prioritaires et sites proposés")
    points = demand_points(communes, spaces, smk.input.grid, float(p.catchment_km), clip=bool(p.clip),
                           corsica_own_zone=bool(p.corsica_own_zone))
    prio = priority_territories(table, points, p.uncovered_km, p.min_fibre_share, p.objective, p.top_n,
                                p.min_flow_coverage, p.priority_quota)
    pcols = ["rank", "insee_code", "name", "dep_code", "territory_class", "population", "uncovered_population",
             "no_place_in_zone", "dist_nearest_space_km", "long_commuters", "flows_covered", "demand",
             "demand_source", "fibre_share", "score", "group_rank", "group_share"]
    write_csv(prio[[c for c in pcols if c in prio.columns]], smk.output.priority, prov)

    demand, _, note = demand_column(table, p.objective, p.min_flow_coverage)
    per_inh = (demand / table["population"].where(table["population"] > 0)).fillna(0.0)
    points["weight"] = points["population"] * points["insee_code"].map(dict(zip(table["insee_code"], per_inh))).fillna(0.0)
    far = points[points["dist_km"].isna() | (points["dist_km"] > p.coverage_km)]
    cand = table[table["lon"].notna() & (table["fibre_share"] >= p.min_fibre_share)].copy()
    cand["zone"] = commune_zones(cand["dep_code"], bool(p.corsica_own_zone))
    res, sites = allocate(cand, far, p.n_new_sites, p.coverage_km, p.exact_max_candidates, p.time_limit_s,
                          p.target_share, p.max_sites)
    scols = ["site_rank", "insee_code", "name", "dep_code", "territory_class", "lon", "lat", "population",
             "fibre_share", "new_population_served", "cumulative_population_served", "marginal_demand",
             "cumulative_demand", "n_points_covered"]
    write_csv(sites[[c for c in scols if c in sites.columns]], smk.output.sites, prov)
    summary = siting_summary(res, sites, far, cand, note, objective=p.objective, coverage_km=p.coverage_km,
                             uncovered_km=p.uncovered_km, min_fibre_share=p.min_fibre_share,
                             target_share=p.target_share if p.n_new_sites is None else None, max_sites=p.max_sites)
    write_csv(summary, smk.output.summary, prov)
    log.info("%d sites cover %.0f of %.0f uncovered demand; gap %.3f %% (%s, %s)", len(res.chosen), res.covered,
             res.total_demand, 100 * res.gap, res.method, res.status)
