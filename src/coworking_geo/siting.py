"""Where to open the next places: under-served territories and location-allocation, from the 1 km grid.

Demand is the population of the 1 km cells farther than the coverage distance
from every existing place of their zone (:func:`coworking_geo.access.demand_points`:
mainland, Corsica, each overseas département; overseas, where the grid stops,
the commune centroid with its legal population), or the long-distance commuters
living there where commuting flows cover the territory. Existing places are
fixed facilities: the demand they cover is left out. Distances are great-circle
kilometres ("à vol d'oiseau", ``coworking_geo.geodesy``), not road times.

Location-allocation is the maximal covering location problem (MCLP): choose N
candidate sites (communes with fibre, each site standing for the commune
centroid, i.e. a catchment, not an address) maximising the uncovered demand
within ``coverage_km`` of a chosen site of the same zone. N is set by the user
or, by default, is the fewest sites that bring ``target_share`` of the
uncovered demand within reach (greedy order), capped at ``max_sites``. It is
solved by a greedy heuristic, with an upper bound from submodularity, and
exactly with pulp/CBC when the problem is small enough; the gap is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from coworking_geo.atlas.themes import fr_number
from coworking_geo.errors import ConfigError
from coworking_geo.geodesy import arc_to_chord_km, to_ecef_km
from coworking_geo.log import get_logger

LOG = get_logger(__name__)
FIBRE_RE = re.compile(r"^ftth_share_(?!change$|over_100)(.+)$")


def latest_fibre_column(columns: list[str] | pd.Index) -> str | None:
    """The ``ftth_share_<vintage>`` column to use: the one named 'latest', else the greatest vintage."""
    found = [(m.group(1), c) for c in columns if (m := FIBRE_RE.match(str(c)))]
    if not found:
        return None
    latest = [c for v, c in found if "latest" in v.lower()]
    return latest[0] if latest else max(found)[1]


def fibre_column(columns: list[str] | pd.Index, vintage: str = "latest") -> str | None:
    """``ftth_share_<vintage>``; ``'latest'`` picks :func:`latest_fibre_column`. ConfigError when absent."""
    if vintage == "latest":
        return latest_fibre_column(columns)
    col = f"ftth_share_{vintage}"
    if col not in columns:
        found = [c for c in columns if FIBRE_RE.match(str(c))]
        raise ConfigError(f"fibre vintage '{vintage}': no column {col} in indicators; available: {found}")
    return col


def demand_column(df: pd.DataFrame, objective: str, min_flow_coverage: float = 0.5) -> tuple[pd.Series, pd.Series, str]:
    """Demand per commune for the objective (people), its source per row, and a note in French (for the report).

    ``objective='long_commuters'``: long commuters where the commuting flows
    cover the commune; elsewhere population × the long-commuter rate
    (long commuters / population) of the covered communes, flagged
    ``population_scaled``. When flows cover fewer than ``min_flow_coverage``
    of the communes (e.g. France with only regional MOBPRO extracts), a rate
    from a few regions would bias the ranking towards them: demand is then
    population everywhere (``population``). ``objective='population'``: population.
    """
    pop = pd.to_numeric(df["population"], errors="coerce").astype(float).fillna(0.0)
    if objective == "population":
        return pop, pd.Series("population", index=df.index), "population"
    if objective != "long_commuters":
        raise ConfigError(f"siting objective '{objective}' is not long_commuters or population")
    long = pd.to_numeric(df.get("long_commuters", pd.Series(np.nan, index=df.index)), errors="coerce").astype(float)
    covered = df.get("flows_covered", long.notna())
    covered = pd.Series(covered, index=df.index).fillna(False).astype(bool) & long.notna()
    if covered.mean() < min_flow_coverage:
        note = (f"population : les flux domicile-travail lus ne couvrent que {fr_number(int(covered.sum()))} des "
                f"{fr_number(len(df))} communes (moins de {round(100 * min_flow_coverage)} %) ; les navetteurs de "
                "longue distance ne sont donc pas comparables d\u2019un bout à l\u2019autre du territoire")
        LOG.warning("demand falls back to population: flows cover %d of %d communes", int(covered.sum()), len(df))
        return pop, pd.Series("population", index=df.index), note
    rate = long[covered].sum() / max(pop[covered].sum(), 1.0)
    demand = long.where(covered, pop * rate)
    src = pd.Series(np.where(covered, "long_commuters", "population_scaled"), index=df.index)
    note = f"navetteurs de longue distance dans les {fr_number(int(covered.sum()))} communes couvertes par les flux"
    if (~covered).any():
        note += (f" ; ailleurs ({fr_number(int((~covered).sum()))} communes), population × {rate:.4f} (navetteurs de longue "
                 "distance par habitant des communes couvertes)").replace(".", ",", 1)
    LOG.info("demand: long commuters in %d communes, population x %.4f in %d others", int(covered.sum()), rate,
             int((~covered).sum()))
    return demand, src, note


def priority_territories(communes: pd.DataFrame, points: pd.DataFrame, uncovered_km: float, min_fibre_share: float,
                         objective: str, top_n: int, min_flow_coverage: float = 0.5) -> pd.DataFrame:
    """Rank communes by their under-served demand, among those with fibre share ≥ ``min_fibre_share``.

    ``communes`` needs insee_code, population, fibre_share (0–1) and, for the long_commuters objective,
    long_commuters and flows_covered; ``points`` are :func:`coworking_geo.access.demand_points` (insee_code,
    population, dist_km). ``uncovered_population``: inhabitants of the commune's cells (or the whole commune,
    through its centroid) farther than ``uncovered_km`` from every place of its zone, or in a zone with no
    place; demand = that population × the commune's demand per inhabitant (:func:`demand_column`); score =
    demand × fibre share. Returns the ``top_n`` best with their rank; unknown fibre is left out.
    """
    df = communes.copy()
    d, df["demand_source"], _ = demand_column(df, objective, min_flow_coverage)
    pop = pd.to_numeric(df["population"], errors="coerce").astype(float)
    per_inhabitant = (d / pop.where(pop > 0)).fillna(0.0)
    far = points["dist_km"].isna() | (points["dist_km"] > uncovered_km)
    unc = points[far].groupby("insee_code")["population"].sum()
    no_place = points[points["dist_km"].isna()].groupby("insee_code")["population"].sum()
    df["uncovered_population"] = df["insee_code"].map(unc).fillna(0.0).astype(float)
    df["no_place_in_zone"] = df["insee_code"].map(no_place).fillna(0.0).astype(float) > 0
    df["demand"] = df["uncovered_population"] * per_inhabitant
    fibre_ok = df["fibre_share"] >= min_fibre_share
    under = df["uncovered_population"] > 0
    LOG.info("%d communes with inhabitants more than %s km from a place (%.0f inhabitants); %d of them with fibre "
             "share >= %s; %d with unknown fibre", int(under.sum()), uncovered_km, df["uncovered_population"].sum(),
             int((under & fibre_ok).sum()), min_fibre_share, int((under & df["fibre_share"].isna()).sum()))
    df = df[under & fibre_ok].copy()
    df["score"] = df["demand"] * df["fibre_share"]
    df = df.sort_values(["score", "insee_code"], ascending=[False, True], kind="mergesort").head(top_n)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df.reset_index(drop=True)


@dataclass
class AllocationResult:
    """Chosen sites (candidate positions in rank order), the covered demand and the optimality bound."""

    chosen: list[int]
    marginal: list[float]
    covered: float
    upper_bound: float
    method: str
    status: str
    total_demand: float
    greedy_covered: float = float("nan")

    @property
    def gap(self) -> float:
        """Relative optimality gap (upper bound − covered) / upper bound; 0 when proven optimal."""
        return 0.0 if self.upper_bound <= 0 else max(0.0, (self.upper_bound - self.covered) / self.upper_bound)


def coverage_matrix(cand_xyz: np.ndarray, dem_xyz: np.ndarray, coverage_km: float,
                    cand_zone: np.ndarray | None = None, dem_zone: np.ndarray | None = None) -> sparse.csr_matrix:
    """Sparse boolean matrix (candidates × demand points): demand within ``coverage_km`` (great-circle) of the
    candidate, and in the same zone when zones are given."""
    tree = cKDTree(dem_xyz)
    lists = tree.query_ball_point(cand_xyz, r=arc_to_chord_km(coverage_km))
    rows = np.repeat(np.arange(len(lists)), [len(x) for x in lists])
    cols = np.concatenate([np.asarray(x, dtype=int) for x in lists]) if len(lists) else np.array([], int)
    if cand_zone is not None and dem_zone is not None:
        same = np.asarray(cand_zone)[rows] == np.asarray(dem_zone)[cols]
        rows, cols = rows[same], cols[same]
    return sparse.csr_matrix((np.ones(len(rows), bool), (rows, cols)), shape=(len(cand_xyz), len(dem_xyz)))


def sites_for_target(greedy: AllocationResult, target_share: float) -> int:
    """Fewest greedy sites whose cumulative coverage reaches ``target_share`` of the total demand (all the greedy
    sites when the target is out of reach within them)."""
    cum = np.cumsum(greedy.marginal)
    hit = np.flatnonzero(cum >= target_share * greedy.total_demand - 1e-9)
    return int(hit[0] + 1) if len(hit) else len(greedy.marginal)


def greedy_mclp(A: sparse.csr_matrix, w: np.ndarray, n_sites: int) -> AllocationResult:
    """Greedy maximal covering: add the candidate with the largest uncovered demand, n_sites times.

    Ties go to the lowest candidate position. The upper bound is the smallest,
    over the greedy steps, of covered(S_i) + the sum of the n_sites largest
    marginal gains with respect to S_i (valid because coverage is submodular).
    """
    A = A.tocsr().astype(float)
    w = np.asarray(w, float)
    uncovered = np.ones(A.shape[1], bool)
    chosen, marginal = [], []
    covered = 0.0
    bound = np.inf
    for _ in range(min(n_sites, A.shape[0])):
        gains = A @ (w * uncovered)
        bound = min(bound, covered + np.sort(gains)[::-1][:n_sites].sum())
        j = int(np.argmax(gains))
        if gains[j] <= 0:
            break
        chosen.append(j)
        marginal.append(float(gains[j]))
        covered += float(gains[j])
        uncovered[A[j].indices] = False
    gains = A @ (w * uncovered)
    bound = min(bound, covered + np.sort(gains)[::-1][:n_sites].sum())
    return AllocationResult(chosen, marginal, covered, float(max(bound, covered)), "greedy",
                            "heuristic", float(w.sum()))


def exact_mclp(A: sparse.csr_matrix, w: np.ndarray, n_sites: int, time_limit_s: float,
               warm: AllocationResult) -> AllocationResult:
    """Solve the MCLP as an integer programme with pulp/CBC (single thread, deterministic).

    max Σ w_i z_i  s.t.  z_i ≤ Σ_{j covers i} y_j,  Σ y_j = N,  y, z binary.
    Only demand points that some candidate covers enter the model. Returns the
    better of the solver's solution and ``warm`` (the greedy one), with the
    solver's bound when it stops on the time limit.
    """
    import pulp

    A = A.tocsc()
    w = np.asarray(w, float)
    reach = np.flatnonzero((A.getnnz(axis=0) > 0) & (w > 0))
    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    y = [prob.add_variable(f"y{j}", cat="Binary") for j in range(A.shape[0])]
    z = {i: prob.add_variable(f"z{i}", lowBound=0, upBound=1) for i in reach}
    prob += pulp.lpSum(w[i] * z[i] for i in reach)
    for i in reach:
        js = A.indices[A.indptr[i]:A.indptr[i + 1]]
        prob += z[i] <= pulp.lpSum(y[j] for j in js)
    prob += pulp.lpSum(y) == min(n_sites, A.shape[0])
    solver = pulp.COIN_CMD(msg=False, timeLimit=time_limit_s, threads=1, options=["randomSeed 42"])
    if not solver.available():
        raise RuntimeError("the CBC solver is not installed: pip install 'pulp[cbc]' (package cbcbox)")
    prob.solve(solver)
    status = pulp.LpStatus[prob.status]
    sol_optimal = prob.sol_status == pulp.LpSolutionOptimal
    chosen = [j for j in range(A.shape[0]) if (y[j].value() or 0) > 0.5]
    if not chosen:
        return warm
    Ar = A.tocsr()
    uncovered = np.ones(A.shape[1], bool)
    covered, marginal, order = 0.0, [], []
    remaining = list(chosen)
    while remaining:  # order the exact sites greedily so that each gets its marginal gain
        gains = np.array([(w * uncovered)[Ar[j].indices].sum() for j in remaining])
        pos = int(np.argmax(gains))
        j = remaining.pop(pos)
        order.append(j)
        marginal.append(float(gains[pos]))
        covered += float(gains[pos])
        uncovered[Ar[j].indices] = False
    bound = covered if sol_optimal else warm.upper_bound
    if covered + 1e-9 < warm.covered:
        return warm
    return AllocationResult(order, marginal, covered, max(bound, covered),
                            "exact (pulp/CBC)", "optimal" if sol_optimal else f"{status}, time limit",
                            float(w.sum()))


def allocate(candidates: pd.DataFrame, demand: pd.DataFrame, n_sites: int | None, coverage_km: float,
             exact_max_candidates: int = 50000, time_limit_s: float = 60.0, target_share: float = 0.5,
             max_sites: int = 100) -> tuple[AllocationResult, pd.DataFrame]:
    """Maximal covering location: ``candidates`` and ``demand`` have insee_code, lon, lat (degrees) and optionally
    ``zone``; demand has ``weight`` (and ``population``).

    ``n_sites`` None: the fewest sites reaching ``target_share`` of the demand (:func:`sites_for_target`),
    at most ``max_sites``. Both frames are sorted first so the answer does not depend on row order. Returns the
    result and the chosen sites in order, each with the demand and the population it newly covers
    (``marginal_demand``, ``new_population_served``), their running totals and ``n_points_covered``.
    """
    key = [c for c in ("insee_code", "lon", "lat") if c in demand.columns]
    cand = candidates.sort_values("insee_code", kind="mergesort").reset_index(drop=True)
    dem = demand.sort_values(key, kind="mergesort").reset_index(drop=True)
    w = dem["weight"].to_numpy(float)
    cxyz, dxyz = to_ecef_km(cand["lon"], cand["lat"]), to_ecef_km(dem["lon"], dem["lat"])
    zones = ("zone" in cand.columns and "zone" in dem.columns)
    A = coverage_matrix(cxyz, dxyz, coverage_km, cand["zone"].to_numpy() if zones else None,
                        dem["zone"].to_numpy() if zones else None)
    LOG.info("MCLP: %d candidates, %d demand points (total %.0f), %d coverage pairs within %s km",
             len(cand), len(dem), w.sum(), A.nnz, coverage_km)
    if n_sites is None:
        n_sites = max(1, sites_for_target(greedy_mclp(A, w, max_sites), target_share))
        LOG.info("MCLP: %d sites for the target of %.0f %% of the uncovered demand (cap %d)", n_sites,
                 100 * target_share, max_sites)
    res = greedy_mclp(A, w, n_sites)
    greedy_covered = res.covered
    if len(cand) <= exact_max_candidates and res.gap > 1e-9:
        res = exact_mclp(A, w, n_sites, time_limit_s, res)
    res.greedy_covered = greedy_covered
    LOG.info("MCLP %s (%s): covered %.0f, upper bound %.0f, gap %.3f %%", res.method, res.status,
             res.covered, res.upper_bound, 100 * res.gap)
    sites = cand.iloc[res.chosen].reset_index(drop=True)
    sites.insert(0, "site_rank", np.arange(1, len(sites) + 1))
    sites["marginal_demand"] = res.marginal
    pop = dem["population"].to_numpy(float) if "population" in dem else np.zeros(len(dem))
    uncovered = np.ones(len(dem), bool)
    new_pop, new_pts = [], []
    for j in res.chosen:  # in rank order: what each site adds to the ones before it
        idx = A[j].indices[uncovered[A[j].indices]]
        new_pop.append(float(pop[idx].sum()))
        new_pts.append(len(idx))
        uncovered[idx] = False
    sites["new_population_served"] = new_pop
    sites["n_points_covered"] = np.asarray(new_pts, dtype=int)
    sites["cumulative_demand"] = sites["marginal_demand"].cumsum()
    sites["cumulative_population_served"] = sites["new_population_served"].cumsum()
    return res, sites


def siting_summary(res: AllocationResult, sites: pd.DataFrame, demand: pd.DataFrame, candidates: pd.DataFrame,
                   demand_note: str, objective: str, coverage_km: float, uncovered_km: float, min_fibre_share: float,
                   target_share: float | None, max_sites: int) -> pd.DataFrame:
    """One-row table of the siting run; ``demand`` (people) and ``text`` in French for the report."""
    pop = float(demand["population"].sum()) if "population" in demand else float("nan")
    served = float(sites["new_population_served"].sum()) if len(sites) else 0.0
    if target_share is None:
        rule = "nombre fixé par l\u2019utilisateur"
    elif res.covered + 1e-9 < target_share * res.total_demand:
        rule = (f"plafond de {max_sites} sites atteint avant de mettre {round(100 * target_share)} % de la demande "
                f"non couverte à moins de {coverage_km:g} km")
    else:
        rule = (f"le plus petit nombre de sites qui met {round(100 * target_share)} % de la demande non couverte à "
                f"moins de {coverage_km:g} km, au plus {max_sites}")
    text = (f"{len(res.chosen)} sites proposés ({rule}) : ils mettraient {fr_number(served)} des {fr_number(pop)} "
            f"habitants aujourd\u2019hui à plus de {coverage_km:g} km à vol d\u2019oiseau d\u2019un lieu à moins de "
            f"{coverage_km:g} km d\u2019un nouveau site. Demande : {demand_note}.")
    return pd.DataFrame([{
        "objective": objective, "demand": demand_note, "coverage_km": coverage_km, "uncovered_km": uncovered_km,
        "min_fibre_share": min_fibre_share, "target_share": target_share, "max_sites": max_sites,
        "n_sites": len(res.chosen), "n_candidates": len(candidates), "n_demand_points": len(demand),
        "uncovered_population": pop, "new_population_served": served, "uncovered_demand_total": res.total_demand,
        "covered_demand": res.covered, "greedy_covered_demand": res.greedy_covered,
        "covered_share": res.covered / res.total_demand if res.total_demand else float("nan"),
        "upper_bound": res.upper_bound, "optimality_gap": res.gap, "method": res.method, "status": res.status,
        "text": text}])

