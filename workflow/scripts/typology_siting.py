"""Snakemake script: under-served territories and proposed sites (maximal covering location)."""

import pandas as pd

from coworking_geo.io import read_table, write_csv
from coworking_geo.log import snakemake_script
from coworking_geo.siting import allocate, demand_column, priority_territories
from coworking_geo.sources import load_sources, provenance
from coworking_geo.territory_profiles import commune_table

smk = snakemake  # noqa: F821
with snakemake_script(smk) as log:
    p = smk.params
    table = commune_table(read_table(smk.input.communes), read_table(smk.input.indicators),
                          read_table(smk.input.spaces))
    prov = provenance(load_sources(smk.input.sources_yaml), list(p.source_ids), p.territory,
                      "Where to open the next places")
    prio = priority_territories(table, p.uncovered_km, p.min_fibre_share, p.objective, p.top_n, p.min_flow_coverage)
    pcols = ["rank", "insee_code", "name", "dep_code", "territory_class", "population", "long_commuters",
             "flows_covered", "demand", "demand_source", "fibre_share", "dist_nearest_space_km", "score"]
    write_csv(prio[[c for c in pcols if c in prio.columns]], smk.output.priority, prov)

    table["weight"], table["demand_source"], note = demand_column(table, p.objective, p.min_flow_coverage)
    table = table[table["lon"].notna()]
    demand = table[table["dist_nearest_space_km"] > p.coverage_km]
    candidates = table[(table["dist_nearest_space_km"] > p.uncovered_km)
                       & (table["fibre_share"] >= p.min_fibre_share)]
    res, sites = allocate(candidates, demand, p.n_new_sites, p.coverage_km, p.exact_max_candidates, p.time_limit_s)
    scols = ["site_rank", "insee_code", "name", "dep_code", "territory_class", "lon", "lat", "population",
             "fibre_share", "dist_nearest_space_km", "marginal_demand", "cumulative_demand", "assigned_demand",
             "assigned_population", "n_communes_covered"]
    write_csv(sites[[c for c in scols if c in sites.columns]], smk.output.sites, prov)
    summary = pd.DataFrame([{
        "objective": p.objective, "demand": note, "coverage_km": p.coverage_km, "uncovered_km": p.uncovered_km,
        "min_fibre_share": p.min_fibre_share, "n_sites": len(res.chosen), "n_candidates": len(candidates),
        "n_demand_points": len(demand), "uncovered_demand_total": res.total_demand, "covered_demand": res.covered,
        "greedy_covered_demand": res.greedy_covered,
        "covered_share": res.covered / res.total_demand if res.total_demand else float("nan"),
        "upper_bound": res.upper_bound, "optimality_gap": res.gap, "method": res.method, "status": res.status}])
    write_csv(summary, smk.output.summary, prov)
    log.info("%d sites cover %.0f of %.0f uncovered demand; gap %.3f %% (%s, %s)", len(res.chosen), res.covered,
             res.total_demand, 100 * res.gap, res.method, res.status)
