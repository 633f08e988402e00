"""The synthetic territory as tables: communes with codes, populations and zonings.

``build_territory(seed, n_communes)`` is a pure function of its arguments. It
returns a :class:`DemoTerritory` whose ``communes`` GeoDataFrame (EPSG:2154)
holds one row per commune (COG 2024) with every attribute the source files
need, and side tables for the municipal arrondissements of the central city and
the former communes of communes nouvelles.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.cluster.vq import kmeans2
from scipy.spatial import cKDTree

from coworking_geo.demo.geography import KM, Seeds, draw_seeds, voronoi_cells
from coworking_geo.demo.names import epci_siren, fictional_names, many_names

MIN_COMMUNES, MAX_COMMUNES = 50, 40000
SMALL_MAX = 1500  # up to this size: three départements of one région (the default layout)
COMMUNES_PER_DEP = 380  # target size of a département above SMALL_MAX
REG_CODE = "84"
REG_NAME = "Synthésie-Centre"
DEP_CODES = ["63", "03", "42"]
DEP_NAMES = {"63": "Démone", "03": "Haute-Démone", "42": "Fictive-et-Simule"}
CENTRAL_NAME = "Synthèse"
MEDIUM_NAMES = ["Val-Démo", "Fictiac-sur-Démone", "Montsimule"]
METRO_NAME = "Synthèse Métropole"
N_ARRONDISSEMENTS = 6
# (year the commune nouvelle was created, number of former communes)
COMMUNES_NOUVELLES = [(2016, 3), (2019, 2), (2019, 4), (2024, 2)]
OUTSIDE = [("58194", "Hors-Démo-la-Ville", "58"), ("71270", "Extérieur-sur-Fiction", "71"),
           ("69999", "Lointaine-Métropole", "69")]

# above SMALL_MAX: real metropolitan département and région codes (not their real places); 58, 69 and 71
# are left out because the OUTSIDE communes use them, Corsica because its codes are not numeric
BIG_DEP_CODES = DEP_CODES + [f"{i:02d}" for i in range(1, 96)
                             if f"{i:02d}" not in {*DEP_CODES, "20", "58", "69", "71"}]
BIG_REG_CODES = [REG_CODE, "11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "93", "94"]
REG_SUFFIXES = ["Nord", "Sud", "Est", "Ouest", "Nord-Est", "Nord-Ouest", "Sud-Est", "Sud-Ouest", "Littoral",
                "Montagne", "Plaine", "Vallée"]

TUU_BOUNDS = [0, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 2000000]
TDUU_BOUNDS = [(2000, "11"), (2500, "12"), (3000, "13"), (4000, "14"), (5000, "21"), (7000, "22"),
               (10000, "31"), (15000, "32"), (20000, "41"), (25000, "42"), (30000, "43"), (40000, "44"),
               (50000, "51"), (70000, "52"), (100000, "61"), (150000, "62"), (200000, "71"),
               (300000, "72"), (500000, "73")]
TDAAV_BOUNDS = [(0, "11"), (10000, "12"), (20000, "13"), (30000, "14"), (50000, "21"), (75000, "22"),
                (100000, "23"), (125000, "24"), (150000, "25"), (200000, "31"), (300000, "32"),
                (400000, "33"), (500000, "34"), (700000, "41"), (1000000, "42")]


@dataclass
class DemoTerritory:
    """Everything the source writers need, all synthetic."""

    seed: int
    communes: gpd.GeoDataFrame  # EPSG:2154, index = code (COG 2024)
    arrondissements: pd.DataFrame  # code, name, parent, population, postcode, x, y
    former: pd.DataFrame  # old_code, name, parent, year, population, chef_lieu (bool)
    epcis: pd.DataFrame  # siren, name, nature
    aavs: pd.DataFrame  # code, name, taav, tdaav, population, n_com
    uus: pd.DataFrame  # code, name, tuu, tduu, population, n_com
    outline: shapely.Polygon
    outside: list[tuple[str, str, str]]
    dep_names: dict[str, str] = field(default_factory=lambda: dict(DEP_NAMES))
    reg_names: dict[str, str] = field(default_factory=lambda: {REG_CODE: REG_NAME})

    @property
    def central(self) -> pd.Series:
        """The central city of the metropolis."""
        return self.communes[self.communes["kind"] == "central"].iloc[0]


def _bracket(value: float, bounds: list[tuple[int, str]]) -> str:
    out = bounds[0][1]
    for low, code in bounds:
        if value >= low:
            out = code
    return out


def tuu(pop: float) -> int:
    """TUU2017 size class of an urban unit of ``pop`` inhabitants (1–7)."""
    return int(np.searchsorted(TUU_BOUNDS, pop, side="right") - 1)


def tduu(pop: float) -> str:
    """TDUU2017 detailed size class."""
    return _bracket(pop, TDUU_BOUNDS)


def taav(pop: float) -> int:
    """TAAV2017 size class of an attraction area (1 <50k, 2 <200k, 3 <700k, 4 otherwise)."""
    return 1 if pop < 50000 else 2 if pop < 200000 else 3 if pop < 700000 else 4


def tdaav(pop: float) -> str:
    """TDAAV2017 detailed size class."""
    return _bracket(pop, TDAAV_BOUNDS)


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int, lo: float, hi: float) -> np.ndarray:
    return np.clip(np.round(median * np.exp(rng.normal(0, sigma, n))), lo, hi)


def _assign_kinds(rng: np.random.Generator, seeds: Seeds, df: pd.DataFrame) -> None:
    """Roles beyond the seeds: small towns, communes nouvelles, couronnes and rural communes."""
    role = seeds.role
    kind = np.where(role == "medium_ring", "medium_ring", role).astype(object)
    xy = seeds.xy
    metro_xy = xy[role == "central"][0]
    medium_xy = xy[role == "medium"]
    others = np.flatnonzero(role == "other")
    # small towns: farthest-point sampling among 'other' seeds, away from the cities
    n_small = max(4, int(round(0.035 * len(df))))
    anchors = [metro_xy, *medium_xy]
    chosen: list[int] = []
    dmin = np.min([np.hypot(*(xy[others] - a).T) for a in anchors], axis=0)
    dmin = dmin.copy()
    dmin[dmin < 0.3 * seeds.radius_m] = 0  # small towns are away from the big cities
    for _ in range(n_small):
        i = int(np.argmax(dmin * rng.uniform(0.85, 1.0, len(dmin))))
        chosen.append(others[i])
        dmin = np.minimum(dmin, np.hypot(*(xy[others] - xy[others[i]]).T))
    kind[chosen] = "small_town"
    # couronnes
    d_metro = np.hypot(*(xy - metro_xy).T)
    d_medium = np.min([np.hypot(*(xy - m).T) for m in medium_xy], axis=0)
    near_medium = np.argmin([np.hypot(*(xy - m).T) for m in medium_xy], axis=0)
    is_other = kind == "other"
    cour_m = is_other & (d_metro < 0.42 * seeds.radius_m)
    cour_c = is_other & ~cour_m & (d_medium < 0.22 * seeds.radius_m)
    kind[cour_m] = "couronne_metro"
    kind[cour_c] = "couronne_medium"
    kind[kind == "other"] = "rural"
    df["kind"] = kind
    df["group"] = np.where(np.isin(kind, ["medium", "medium_ring", "couronne_medium"]),
                           near_medium, -1)
    # communes nouvelles among rural communes, spread out
    rural = np.flatnonzero(kind == "rural")
    cn = rng.choice(rural, size=min(len(COMMUNES_NOUVELLES), len(rural)), replace=False)
    df["cn_year"] = 0
    df["cn_n"] = 0
    for (year, n), i in zip(COMMUNES_NOUVELLES, sorted(cn), strict=False):
        df.iloc[i, list(df.columns).index("cn_year")] = year
        df.iloc[i, list(df.columns).index("cn_n")] = n


def _populations(rng: np.random.Generator, df: pd.DataFrame) -> np.ndarray:
    """Populations légales 2021: a heavy tail from a 300k central city to hamlets of 50."""
    n = len(df)
    pop = np.zeros(n)
    k = df["kind"].to_numpy()
    draws = {
        "central": lambda m: np.full(m, round(300000 * (1 + rng.normal(0, 0.02)))),
        "metro_inner": lambda m: _lognormal(rng, 21000, 0.35, m, 9000, 60000),
        "metro_outer": lambda m: _lognormal(rng, 6500, 0.55, m, 1500, 30000),
        "medium": lambda m: np.round(rng.uniform(42000, 68000, m)),
        "medium_ring": lambda m: _lognormal(rng, 3200, 0.6, m, 600, 15000),
        "small_town": lambda m: np.round(np.exp(rng.uniform(np.log(2600), np.log(9000), m))),
        "couronne_metro": lambda m: _lognormal(rng, 1500, 0.7, m, 150, 9000),
        "couronne_medium": lambda m: _lognormal(rng, 900, 0.7, m, 120, 5000),
        "rural": lambda m: _lognormal(rng, 380, 0.85, m, 45, 2400),
    }
    for kind, draw in draws.items():
        mask = k == kind
        if mask.any():
            pop[mask] = draw(int(mask.sum()))
    cn = df["cn_n"].to_numpy() > 0
    pop[cn] = _lognormal(rng, 1700, 0.4, int(cn.sum()), 700, 4500)
    return pop.astype(np.int64)


def _density(df: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """INSEE 7-level density, consistent with each commune's role and population."""
    k = df["kind"].to_numpy()
    pop = df["pop2021"].to_numpy()
    dens = np.where(pop >= 1000, 5, np.where(pop >= 200, 6, 7))
    dens = np.where(k == "central", 1, dens)
    dens = np.where(k == "metro_inner", np.where(pop >= 15000, 1, 2), dens)
    dens = np.where(k == "metro_outer", np.where(pop >= 12000, 2, 4), dens)
    dens = np.where(k == "medium", 2, dens)
    dens = np.where(k == "medium_ring", np.where(df["pole"].to_numpy(), 2, 4), dens)
    dens = np.where(k == "small_town", 3, dens)
    dens = np.where(np.isin(k, ["couronne_metro", "couronne_medium"]), np.where(pop >= 1200, 4, 5), dens)
    # a few very sparse communes always exist in the rural part
    rural = np.flatnonzero((k == "rural") & (dens == 6))
    if len(rural) > 3 and (dens == 7).sum() < 3:
        dens[rng.choice(rural, 3, replace=False)] = 7
    return dens


def _codes(rng: np.random.Generator, df: pd.DataFrame,
           deps: list[str]) -> tuple[np.ndarray, dict[int, list[str]]]:
    """COG codes: département + 3 digits, numbered in name order with gaps; the gaps hold the former
    codes of communes nouvelles. Returns the codes and, per commune nouvelle row, its extra former codes."""
    codes = np.empty(len(df), dtype=object)
    extra: dict[int, list[str]] = {}
    names = df["name"].to_numpy()
    cn_n = df["cn_n"].to_numpy()
    dep_col = df["dep"].to_numpy()
    for dep in deps:
        idx = np.flatnonzero(dep_col == dep)
        order = idx[np.argsort(names[idx].astype(str), kind="stable")]
        slots = int(len(order) + np.maximum(cn_n[order] - 1, 0).sum())
        pool = np.arange(1, 370) if slots <= 250 else np.setdiff1d(np.arange(1, 1000), np.arange(380, 390))
        if slots > len(pool):
            raise ValueError(f"demo: {slots} communes in département {dep} do not fit in 3-digit codes; "
                             f"use n_communes <= {MAX_COMMUNES}")
        numbers = np.sort(rng.choice(pool, size=slots, replace=False))
        pos = 0
        for i in order:
            codes[i] = f"{dep}{numbers[pos]:03d}"
            pos += 1
            m = int(df["cn_n"].to_numpy()[i]) - 1
            if m > 0:
                extra[i] = [f"{dep}{v:03d}" for v in numbers[pos:pos + m]]
                pos += m
    return codes, extra


def _big_partition(seed: int, xy: np.ndarray, kind: np.ndarray) -> tuple[np.ndarray, list[str], dict[str, str],
                                                                         dict[str, str], dict[str, str]]:
    """Départements and régions of a large territory (more than SMALL_MAX communes): k-means cells of
    about COMMUNES_PER_DEP communes (the metropolis in one département), grouped by k-means into up to
    13 régions. Returns the département code of each commune, the codes in use (the central city's
    first), and the names of départements and régions and the région of each département."""
    n = len(xy)
    n_dep = min(len(BIG_DEP_CODES), int(np.ceil(n / COMMUNES_PER_DEP)))
    centre, lab = kmeans2(xy, n_dep, minit="++", seed=np.random.default_rng([seed, 90]), iter=20)
    lab[np.isin(kind, ["central", "metro_inner", "metro_outer"])] = lab[kind == "central"][0]
    used = np.unique(lab)
    # ordering: the metropolis' cell first, then north to south
    cy = np.array([xy[lab == u, 1].mean() for u in used])
    first = lab[kind == "central"][0]
    order = sorted(used, key=lambda u: (u != first, -cy[np.searchsorted(used, u)]))
    code_of = {u: BIG_DEP_CODES[j] for j, u in enumerate(order)}
    dep = np.array([code_of[u] for u in lab], dtype=object)
    deps = [code_of[u] for u in order]
    dep_xy = np.array([xy[lab == u].mean(axis=0) for u in order])
    n_reg = min(len(BIG_REG_CODES), max(1, int(np.ceil(len(deps) / 7))))
    _, rlab = kmeans2(dep_xy, n_reg, minit="++", seed=np.random.default_rng([seed, 91]), iter=20)
    rorder = list(dict.fromkeys(rlab))  # the central département's région first
    reg_code = {r: BIG_REG_CODES[j] for j, r in enumerate(rorder)}
    reg_of_dep = {d: reg_code[r] for d, r in zip(deps, rlab, strict=True)}
    reg_names = {REG_CODE: REG_NAME} | {c: f"Synthésie-{REG_SUFFIXES[j]}" for j, c in
                                        enumerate(c for c in reg_code.values() if c != REG_CODE)}
    extra = many_names(np.random.default_rng([seed, 92]), len(deps), set(DEP_NAMES.values()))
    dep_names = {d: DEP_NAMES.get(d, extra[j]) for j, d in enumerate(deps)}
    return dep, deps, dep_names, reg_of_dep, reg_names


def build_territory(seed: int, n_communes: int = 300) -> DemoTerritory:
    """Build the synthetic territory (a pure function of ``seed`` and ``n_communes``, 50–40,000).

    Up to 1,500 communes: three départements of one région. Above: about 380 communes per département
    (real metropolitan codes), up to 13 régions, on a territory the size of France."""
    if not MIN_COMMUNES <= n_communes <= MAX_COMMUNES:
        raise ValueError(f"demo: n_communes must be between {MIN_COMMUNES} and {MAX_COMMUNES}, "
                         f"got {n_communes}")
    big = n_communes > SMALL_MAX
    rng = np.random.default_rng(seed)
    seeds = draw_seeds(rng, n_communes)
    cells = voronoi_cells(seeds)
    df = pd.DataFrame({"x": seeds.xy[:, 0], "y": seeds.xy[:, 1]})
    _assign_kinds(rng, seeds, df)
    k = df["kind"].to_numpy()
    # pole communes of medium cities: the two ring communes nearest their city
    df["pole"] = False
    for g in range(int((k == "medium").sum())):
        city = df[(k == "medium") & (df["group"] == g)].iloc[0]
        ring = df[(k == "medium_ring") & (df["group"] == g)]
        near = np.hypot(ring["x"] - city["x"], ring["y"] - city["y"]).nsmallest(2).index
        df.loc[near, "pole"] = True
    df["pop2021"] = _populations(rng, df)
    pole = df["pole"].to_numpy()
    df.loc[pole, "pop2021"] = _lognormal(rng, 7000, 0.4, int(pole.sum()), 2500, 20000).astype(np.int64)
    if big:
        dep, deps, dep_names, reg_of_dep, reg_names = _big_partition(seed, seeds.xy, k)
        df["dep"] = dep
    else:
        # départements: nearest of three capitals (central city, first two medium cities)
        capitals = np.vstack([seeds.xy[k == "central"][0], seeds.xy[k == "medium"][:2]])
        d = np.hypot(seeds.xy[:, None, 0] - capitals[None, :, 0], seeds.xy[:, None, 1] - capitals[None, :, 1])
        dep_idx = np.argmin(d, axis=1)
        dep_idx[np.isin(k, ["central", "metro_inner", "metro_outer"])] = 0
        df["dep"] = np.array(DEP_CODES)[dep_idx]
        deps, dep_names = list(DEP_CODES), dict(DEP_NAMES)
        reg_of_dep, reg_names = dict.fromkeys(DEP_CODES, REG_CODE), {REG_CODE: REG_NAME}
    df["dep_name"] = df["dep"].map(dep_names)
    df["reg"] = df["dep"].map(reg_of_dep)
    df["reg_name"] = df["reg"].map(reg_names)
    # names
    n_med = int((k == "medium").sum())
    reserved = {CENTRAL_NAME, *MEDIUM_NAMES}
    names = np.array((many_names if big else fictional_names)(rng, len(df), reserved), dtype=object)
    names[k == "central"] = CENTRAL_NAME
    names[k == "medium"] = MEDIUM_NAMES[:n_med]
    df["name"] = names
    codes, extra = _codes(rng, df, deps)
    df["code"] = codes
    df["dens"] = _density(df, rng)
    df["geometry"] = cells
    gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=2154)
    cent = gdf.geometry.centroid
    gdf["cx"], gdf["cy"] = cent.x.to_numpy(), cent.y.to_numpy()
    _zonings(rng, gdf, big)
    _admin(rng, gdf, deps, big)
    former = _former(rng, gdf, extra, big)
    arr = _arrondissements(rng, gdf)
    growth = rng.normal(0.004, 0.006, len(gdf))
    gdf["pop2022"] = np.round(gdf["pop2021"] * (1 + growth)).astype(np.int64)
    gdf["pop2023"] = np.round(gdf["pop2021"] * (1 + 2 * growth)).astype(np.int64)
    gdf = gdf.set_index("code", drop=False).sort_index()
    gdf.index.name = None
    epcis = gdf.drop_duplicates("epci")[["epci", "epci_name", "epci_nature"]].rename(
        columns={"epci": "siren", "epci_name": "name", "epci_nature": "nature"}).sort_values("siren")
    aavs = _zone_table(gdf, "aav", "aav_name")
    aavs["taav"] = [taav(p) if c != "000" else 0 for c, p in zip(aavs["code"], aavs["population"], strict=True)]
    aavs["tdaav"] = [tdaav(p) if c != "000" else "00" for c, p in zip(aavs["code"], aavs["population"],
                                                                       strict=True)]
    uus = _zone_table(gdf, "uu", "uu_name")
    rural_uu = uus["code"].str.endswith("000")
    uus["tuu"] = [0 if r else tuu(p) for r, p in zip(rural_uu, uus["population"], strict=True)]
    uus["tduu"] = [("00" if r else tduu(p)) for r, p in zip(rural_uu, uus["population"], strict=True)]
    return DemoTerritory(seed=seed, communes=gdf, arrondissements=arr, former=former, epcis=epcis.reset_index(
        drop=True), aavs=aavs, uus=uus, outline=seeds.outline, outside=list(OUTSIDE),
        dep_names=dep_names, reg_names=reg_names)


def _zone_table(gdf: gpd.GeoDataFrame, col: str, name_col: str) -> pd.DataFrame:
    g = gdf.groupby(col, sort=True)
    return pd.DataFrame({"code": g.size().index, "name": g[name_col].first().to_numpy(),
                         "population": g["pop2021"].sum().to_numpy(), "n_com": g.size().to_numpy()})


def _zonings(rng: np.random.Generator, gdf: gpd.GeoDataFrame, big: bool = False) -> None:
    """AAV 2020 (codes, CATEAAV2020) and UU 2020, consistent with roles and populations."""
    k = gdf["kind"].to_numpy()
    n = len(gdf)
    aav = np.full(n, "000", dtype=object)
    aav_name = np.full(n, "Commune hors attraction des villes", dtype=object)
    cate = np.full(n, 30)
    uu = gdf["dep"].to_numpy().astype(object) + "000"
    uu_name = np.array([f"Communes hors unité urbaine du département {d}" for d in gdf["dep"]], dtype=object)
    metro = np.isin(k, ["central", "metro_inner", "metro_outer", "couronne_metro"])
    aav[metro], aav_name[metro] = "021", CENTRAL_NAME
    cate[metro] = 20
    core = np.isin(k, ["metro_inner", "metro_outer"]) & (gdf["dens"].to_numpy() <= 2)
    cate[core] = 12
    cate[k == "central"] = 11
    dep_central = gdf.loc[k == "central", "dep"].iat[0]
    uu[core | (k == "central")] = f"{dep_central}701"
    uu_name[core | (k == "central")] = CENTRAL_NAME
    medium_codes = ["094", "117", "139"]
    for g, code in enumerate(medium_codes):
        members = (gdf["group"].to_numpy() == g) & np.isin(k, ["medium", "medium_ring", "couronne_medium"])
        if not members.any():
            continue
        city = gdf[(k == "medium") & (gdf["group"] == g)].iloc[0]
        aav[members], aav_name[members], cate[members] = code, city["name"], 20
        pole = members & (gdf["pole"].to_numpy() | (k == "medium"))
        cate[pole] = 12
        cate[members & (k == "medium")] = 11
        uu[pole] = f"{city['dep']}50{g + 1}"
        uu_name[pole] = city["name"]
    # small towns: pole of a small AAV with their two nearest rural neighbours as couronne
    towns = np.flatnonzero(k == "small_town")
    xy = gdf[["cx", "cy"]].to_numpy()
    # large territories: 3-character AAV codes run out, so only the first 900 small towns get an AAV,
    # and urban units are numbered within the département (5-character codes)
    aav_pool = [f"{v:03d}" for v in range(1, 1000) if f"{v:03d}" not in {"021", *medium_codes}]
    dep_count: dict[str, int] = {}
    kd = cKDTree(xy) if big else None
    for j, i in enumerate(towns):
        dep_i = gdf["dep"].iat[i]
        dep_count[dep_i] = dep_count.get(dep_i, 0) + 1
        t = tuu(gdf["pop2021"].iat[i])
        uu[i] = f"{dep_i}{t}{(dep_count[dep_i] if big else j + 1):02d}"
        uu_name[i] = gdf["name"].iat[i]
        if big:
            if j >= 900:
                continue
            code = aav_pool[j]
            assert kd is not None  # built above when big
            near = np.sort(np.asarray(kd.query_ball_point(xy[i], 12 * KM), dtype=np.int64))
            d = np.full(len(xy), np.inf)
            d[near] = np.hypot(*(xy[near] - xy[i]).T)
        else:
            code = f"{300 + 17 * j:03d}"
            d = np.hypot(*(xy - xy[i]).T)
        aav[i], aav_name[i], cate[i] = code, gdf["name"].iat[i], 11
        cand = np.flatnonzero((k == "rural") & (aav == "000") & (d < 12 * KM))
        for c in cand[np.argsort(d[cand])][:2]:
            aav[c], aav_name[c], cate[c] = code, gdf["name"].iat[i], 20
    gdf["aav"], gdf["aav_name"], gdf["cateaav"] = aav, aav_name, cate
    gdf["uu"], gdf["uu_name"] = uu, uu_name


def _admin(rng: np.random.Generator, gdf: gpd.GeoDataFrame, deps: list[str] | None = None,
           big: bool = False) -> None:
    """EPCI (ME, CA, CC), arrondissements, cantons, ZE, BV, statuts and postcodes."""
    k = gdf["kind"].to_numpy()
    n = len(gdf)
    xy = gdf[["cx", "cy"]].to_numpy()
    dep = gdf["dep"].to_numpy()
    deps = list(DEP_CODES) if deps is None else deps
    epci_idx = np.full(n, -1)
    natures: list[str] = []
    names: list[str] = []
    metro = np.isin(k, ["central", "metro_inner", "metro_outer"])
    epci_idx[metro] = 0
    natures.append("ME")
    names.append(METRO_NAME)
    for g in sorted(set(gdf.loc[k == "medium", "group"])):
        city = gdf[(k == "medium") & (gdf["group"] == g)].iloc[0]
        members = (gdf["group"].to_numpy() == g) & (dep == city["dep"]) & (epci_idx < 0)
        epci_idx[members] = len(natures)
        natures.append("CA")
        names.append(f"Communauté d'agglomération de {city['name']}")
    # communautés de communes around small towns (plus one seed per département without one)
    seeds = list(np.flatnonzero(k == "small_town"))
    seed_deps = set(dep[seeds])
    for d in deps:
        free = np.flatnonzero((dep == d) & (epci_idx < 0))
        if len(free) and d not in seed_deps:
            seeds.append(free[np.argmax(gdf["pop2021"].to_numpy()[free])])
    seed_epci = {}
    for s in seeds:
        seed_epci[s] = len(natures)
        natures.append("CC")
        names.append(f"Communauté de communes du Pays de {gdf['name'].iat[s]}")
    # every other commune joins the nearest seed of its département (first seed on ties)
    free_all = epci_idx < 0
    seeds_arr = np.array(seeds)
    for d in deps:
        idx = np.flatnonzero(free_all & (dep == d))
        same = seeds_arr[dep[seeds_arr] == d]
        if len(idx) == 0:
            continue
        dd = np.hypot(xy[same, 0][None, :] - xy[idx, 0][:, None], xy[same, 1][None, :] - xy[idx, 1][:, None])
        epci_idx[idx] = [seed_epci[s] for s in same[np.argmin(dd, axis=1)]]
    step = min(37, 9400 // len(natures))  # 4-digit EPCI numbers, however many EPCIs
    sirens = [epci_siren(46 + step * j) for j in range(len(natures))]
    gdf["epci"] = np.array(sirens, dtype=object)[epci_idx]
    gdf["epci_nature"] = np.array(natures, dtype=object)[epci_idx]
    gdf["epci_name"] = np.array(names, dtype=object)[epci_idx]
    # poles of arrondissements, ZE and BV
    poles = np.flatnonzero(np.isin(k, ["central", "medium"]))
    d_poles = np.hypot(xy[:, None, 0] - xy[None, poles, 0], xy[:, None, 1] - xy[None, poles, 1])
    ze_pole = poles[np.argmin(d_poles, axis=1)]
    gdf["ze"] = [f"84{40 + list(poles).index(p):02d}" for p in ze_pole]
    gdf["ze_name"] = gdf["name"].to_numpy()[ze_pole]
    bv_poles = np.flatnonzero(np.isin(k, ["central", "medium", "small_town"]))
    if big:
        gdf["bv_pole"] = bv_poles[cKDTree(xy[bv_poles]).query(xy)[1]]
    else:
        d_bv = np.hypot(xy[:, None, 0] - xy[None, bv_poles, 0], xy[:, None, 1] - xy[None, bv_poles, 1])
        gdf["bv_pole"] = bv_poles[np.argmin(d_bv, axis=1)]
    arr = np.empty(n, dtype=object)
    for d in deps:
        idx = np.flatnonzero(dep == d)
        local = [p for p in np.flatnonzero(np.isin(k, ["central", "medium", "small_town"])) if dep[p] == d]
        local = sorted(local, key=lambda p: -gdf["pop2021"].iat[p])[:3] or [idx[0]]
        dd = np.hypot(xy[idx, None, 0] - xy[None, local, 0], xy[idx, None, 1] - xy[None, local, 1])
        arr[idx] = np.argmin(dd, axis=1) + 1
    gdf["arr_num"] = arr.astype(int)
    # cantons: one per EPCI within a département; the central city is its own canton (99)
    can = np.empty(n, dtype=object)
    for d in deps:
        idx = np.flatnonzero(dep == d)
        uniq = sorted(set(gdf["epci"].to_numpy()[idx]))
        can[idx] = [f"{uniq.index(e) + 1:02d}" for e in gdf["epci"].to_numpy()[idx]]
    can[k == "central"] = "99"
    gdf["canton"] = can
    statut = np.full(n, "Commune simple", dtype=object)
    statut[k == "medium"] = "Préfecture"
    for d in deps:  # one sous-préfecture per département: its largest small town
        towns = np.flatnonzero((k == "small_town") & (dep == d))
        if len(towns):
            statut[towns[np.argmax(gdf["pop2021"].to_numpy()[towns])]] = "Sous-préfecture"
    medium_idx = np.flatnonzero(k == "medium")
    if len(medium_idx) > 2:
        statut[medium_idx[2:]] = "Sous-préfecture"
    statut[k == "central"] = "Préfecture de région"
    if big:  # a préfecture in every département: its most populous commune
        pop = gdf["pop2021"].to_numpy()
        for d in deps:
            idx = np.flatnonzero(dep == d)
            if not np.isin(statut[idx], ["Préfecture", "Préfecture de région"]).any():
                statut[idx[np.argmax(pop[idx])]] = "Préfecture"
    gdf["statut"] = statut
    pc = np.array([f"{d}{100 + 10 * (int(e[-3:]) % 80):03d}" for d, e in zip(dep, gdf["epci"], strict=True)],
                  dtype=object)
    pc[k == "central"] = f"{dep[k == 'central'][0]}000"
    gdf["postcode"] = pc


def _former(rng: np.random.Generator, gdf: gpd.GeoDataFrame, extra: dict[int, list[str]],
            big: bool = False) -> pd.DataFrame:
    """Former communes of the communes nouvelles: the chef-lieu keeps the new commune's code."""
    rows = []
    taken: set[str] = set()
    for i, olds in sorted(extra.items()):
        row = gdf.iloc[i]
        shares = rng.dirichlet(np.full(len(olds) + 1, 3.0))
        pops = np.floor(shares * row["pop2021"]).astype(int)
        pops[0] += int(row["pop2021"] - pops.sum())
        sub_names = (many_names if big else fictional_names)(rng, len(olds) + 1, set(gdf["name"]) | taken)
        taken.update(sub_names)
        for j, (code, pop) in enumerate(zip([row["code"], *olds], pops, strict=True)):
            rows.append({"old_code": code, "name": sub_names[j], "parent": row["code"],
                         "year": int(row["cn_year"]), "population": int(pop), "chef_lieu": j == 0})
    return pd.DataFrame(rows, columns=["old_code", "name", "parent", "year", "population", "chef_lieu"])


def _arrondissements(rng: np.random.Generator, gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Municipal arrondissements of the central city (like Lyon's 6938x codes), seeds inside its polygon."""
    c = gdf[gdf["kind"] == "central"].iloc[0]
    poly = c.geometry
    angles = np.linspace(0, 2 * np.pi, N_ARRONDISSEMENTS - 1, endpoint=False)
    r = 0.35 * np.sqrt(poly.area / np.pi)
    x = np.r_[c["cx"], c["cx"] + r * np.cos(angles)]
    y = np.r_[c["cy"], c["cy"] + r * np.sin(angles)]
    shares = rng.dirichlet(np.full(N_ARRONDISSEMENTS, 8.0))
    pops = np.floor(shares * c["pop2021"]).astype(int)
    pops[0] += int(c["pop2021"] - pops.sum())
    ordinal = ["1er"] + [f"{i}e" for i in range(2, N_ARRONDISSEMENTS + 1)]
    return pd.DataFrame({
        "code": [f"{c['dep']}38{i + 1}" for i in range(N_ARRONDISSEMENTS)],
        "name": [f"{CENTRAL_NAME} {o} Arrondissement" for o in ordinal],
        "parent": c["code"], "population": pops,
        "postcode": [f"{c['dep']}{i + 1:03d}" for i in range(N_ARRONDISSEMENTS)], "x": x, "y": y,
    })


def arrondissement_of(terr: DemoTerritory, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Code of the nearest municipal arrondissement of each point (EPSG:2154)."""
    a = terr.arrondissements
    d = np.hypot(x[:, None] - a["x"].to_numpy()[None, :], y[:, None] - a["y"].to_numpy()[None, :])
    return a["code"].to_numpy()[np.argmin(d, axis=1)]


