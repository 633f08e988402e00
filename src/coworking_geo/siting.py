"""Where to open the next places: under-served territories and location-allocation.

Distances are great-circle kilometres (``coworking_geo.geodesy``, sphere of
radius 6371.0088 km), computed as chords between Earth-centred points in a
scipy cKDTree: exact great-circle distances, the same formula in metropolitan
France and overseas (Lambert-93 distances differ from them by its scale error,
below 0.3 % in metropolitan France).

Location-allocation is the maximal covering location problem (MCLP): choose N
candidate sites maximising the demand (long commuters or population) that lies
within ``coverage_km`` of a chosen site, counting only demand not already
within ``coverage_km`` of an existing space. It is solved by a greedy
heuristic, with an upper bound from submodularity, and exactly with pulp/CBC
when the problem is small enough; the optimality gap is reported.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from coworking_geo.errors import ConfigError
from coworking_geo.geodesy import arc_to_chord_km, chord_to_arc_km, to_ecef_km
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
    """Demand per commune for the objective (people), its source per row, and a note.

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
        note = (f"population (commuting flows cover {int(covered.sum())} of {len(df)} communes, under "
                f"{min_flow_coverage:.0%}: long commuters are not comparable across the territory)")
        LOG.warning("demand falls back to %s", note)
        return pop, pd.Series("population", index=df.index), note
    rate = long[covered].sum() / max(pop[covered].sum(), 1.0)
    demand = long.where(covered, pop * rate)
    src = pd.Series(np.where(covered, "long_commuters", "population_scaled"), index=df.index)
    note = (f"long commuters in {int(covered.sum())} communes with flows; population × {rate:.4f} "
            f"(long commuters per inhabitant in those communes) in {int((~covered).sum())} others")
    LOG.info("demand: %s", note)
    return demand, src, note


def priority_territories(communes: pd.DataFrame, uncovered_km: float, min_fibre_share: float,
                         objective: str, top_n: int, min_flow_coverage: float = 0.5) -> pd.DataFrame:
    """Rank under-served communes: no space within ``uncovered_km``, fibre share ≥ ``min_fibre_share``.

    ``communes`` needs insee_code, name, population, dist_nearest_space_km,
    fibre_share (0–1) and, for the long_commuters objective, long_commuters and
    flows_covered. Score = demand × fibre share (demand in people). Returns the
    ``top_n`` best with their rank; communes with unknown fibre are left out.
    """
    df = communes.copy()
    df["demand"], df["demand_source"], _ = demand_column(df, objective, min_flow_coverage)
    under = df["dist_nearest_space_km"] > uncovered_km
    fibre_ok = df["fibre_share"] >= min_fibre_share
    LOG.info("%d communes without a space within %s km; %d of them with fibre share >= %s; %d with unknown fibre",
             int(under.sum()), uncovered_km, int((under & fibre_ok).sum()), min_fibre_share,
             int((under & df["fibre_share"].isna()).sum()))
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


def coverage_matrix(cand_xyz: np.ndarray, dem_xyz: np.ndarray, coverage_km: float) -> sparse.csr_matrix:
    """Sparse boolean matrix (candidates × demand points): demand within ``coverage_km`` of the candidate."""
    tree = cKDTree(dem_xyz)
    lists = tree.query_ball_point(cand_xyz, r=arc_to_chord_km(coverage_km))
    rows = np.repeat(np.arange(len(lists)), [len(x) for x in lists])
    cols = np.concatenate([np.asarray(x, dtype=int) for x in lists]) if len(lists) else np.array([], int)
    return sparse.csr_matrix((np.ones(len(rows), bool), (rows, cols)), shape=(len(cand_xyz), len(dem_xyz)))


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
    with warnings.catch_warnings():  # PULP_CBC_CMD (the bundled CBC) is deprecated in favour of COIN_CMD
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, threads=1, options=["randomSeed 42"])
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


def allocate(candidates: pd.DataFrame, demand: pd.DataFrame, n_sites: int, coverage_km: float,
             exact_max_candidates: int = 50000, time_limit_s: float = 60.0) -> tuple[AllocationResult, pd.DataFrame]:
    """Maximal covering location: ``candidates`` and ``demand`` have lon, lat (degrees); demand has ``weight``.

    Both frames are first sorted by ``insee_code`` so the answer does not depend
    on row order. Returns the result and a frame with, for every chosen site,
    the demand assigned to it (each covered demand point goes to its nearest
    chosen site) and the number of demand points it covers.
    """
    cand = candidates.sort_values("insee_code", kind="mergesort").reset_index(drop=True)
    dem = demand.sort_values("insee_code", kind="mergesort").reset_index(drop=True)
    w = dem["weight"].to_numpy(float)
    cxyz, dxyz = to_ecef_km(cand["lon"], cand["lat"]), to_ecef_km(dem["lon"], dem["lat"])
    A = coverage_matrix(cxyz, dxyz, coverage_km)
    LOG.info("MCLP: %d candidates, %d demand points (total %.0f), %d coverage pairs within %s km",
             len(cand), len(dem), w.sum(), A.nnz, coverage_km)
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
    # allocate every covered demand point to its nearest chosen site
    if len(sites):
        d, nearest = cKDTree(cxyz[res.chosen]).query(dxyz)
        within = chord_to_arc_km(d) <= coverage_km + 1e-9
        alloc = pd.DataFrame({"site": nearest[within], "w": w[within],
                              "pop": dem["population"].to_numpy(float)[within] if "population" in dem else 0.0})
        agg = alloc.groupby("site").agg(assigned_demand=("w", "sum"), assigned_population=("pop", "sum"),
                                        n_communes_covered=("w", "size"))
        sites = sites.join(agg, how="left")
        sites[["assigned_demand", "assigned_population"]] = sites[["assigned_demand", "assigned_population"]].fillna(0.0)
        sites["n_communes_covered"] = sites["n_communes_covered"].fillna(0).astype(int)
        sites["cumulative_demand"] = sites["marginal_demand"].cumsum()
    return res, sites
