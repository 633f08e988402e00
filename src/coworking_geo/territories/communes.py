"""The communes table: polygons, population, EPCI, density, AAV and ANCT programmes.

Every reader checks its file (missing, empty, truncated, columns) and raises
:class:`InputFileError` naming it. Codes are cleaned with
:func:`coworking_geo.codes.normalise_insee`; every code of an attribute source
is either matched to a current commune (directly or through the crosswalk) or
listed in an *issues* table ``(code, source, status, reason)``. Geometry is
EPSG:4326.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from coworking_geo.codes import normalise_insee
from coworking_geo.territories.crosswalk import resolve_codes
from coworking_geo.errors import InputFileError
from coworking_geo.io import read_csv_text
from coworking_geo.log import get_logger

log = get_logger(__name__)

ISSUE_COLUMNS = ["code", "source", "status", "reason"]
NO_EPCI = {"NR", "ZZZZZZZZZ", ""}
PROGRAMME_CODE_RE = r"\(((?:\d{5}|2[AB]\d{3}))\)"


def _issues(codes: pd.Series | list[str], source: str, status: str, reason: str | pd.Series) -> pd.DataFrame:
    codes = pd.Series(codes, dtype="string").reset_index(drop=True)
    reasons = reason.reset_index(drop=True) if isinstance(reason, pd.Series) else reason
    return pd.DataFrame({"code": codes, "source": source, "status": status, "reason": reasons})[ISSUE_COLUMNS]


def read_vector(path: str | os.PathLike[str], required: list[str], layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector file with pyogrio (arrow), in EPSG:4326; clear errors for empty, truncated or bad files."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "file not found")
    if p.stat().st_size == 0:
        raise InputFileError(p, "the file is empty (0 bytes)")
    try:
        gdf = pyogrio.read_dataframe(p, layer=layer, use_arrow=True)
    except Exception as exc:  # pyogrio/GDAL raise several types for corrupt files
        raise InputFileError(p, f"cannot be read as a vector file, probably truncated or corrupt ({exc})") from None
    if len(gdf) == 0:
        raise InputFileError(p, "the layer has no features")
    missing = [c for c in required if c not in gdf.columns]
    if missing:
        raise InputFileError(p, f"missing required column(s) {missing}; columns found: {list(gdf.columns)[:15]}")
    if gdf.crs is None:
        raise InputFileError(p, "the layer has no CRS")
    if gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    return gdf


def repair_geometry(geom: gpd.GeoSeries) -> tuple[gpd.GeoSeries, int]:
    """Make polygons valid (``shapely.make_valid``, structure method); returns them and the count repaired."""
    arr = geom.values
    bad = ~shapely.is_valid(arr) & ~shapely.is_missing(arr)
    n = int(bad.sum())
    if n:
        fixed = np.asarray(arr, dtype=object).copy()
        fixed[bad] = shapely.make_valid(fixed[bad], method="structure", keep_collapsed=False)
        geom = gpd.GeoSeries(fixed, index=geom.index, crs=geom.crs)
    return geom, n


def clean_codes(codes: pd.Series, path: str | os.PathLike[str], source: str) -> tuple[pd.Series, pd.DataFrame]:
    """Normalise codes of a reference file; zero-padding is a recorded fix, an invalid code an error."""
    clean, fix = normalise_insee(codes.astype("string").fillna(""))
    if clean.isna().any():
        bad = codes[clean.isna()].astype("string").fillna("<empty>").unique()[:10].tolist()
        raise InputFileError(path, f"{int(clean.isna().sum())} invalid commune code(s), e.g. {bad}")
    fixed = fix.eq("zero_padded")
    issues = _issues(codes[fixed].astype("string"), source, "fixed",
                     "lost leading zero restored → " + clean[fixed].astype("string"))
    if fixed.any():
        log.warning("%s: %d code(s) had lost their leading zero and were padded", path, int(fixed.sum()))
    return clean, issues


def read_communes(path: str | os.PathLike[str], source: str = "ign_admin_express_communes",
                  ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, dict[str, int]]:
    """Read ADMIN EXPRESS communes: insee_code, name, dep_code, reg_code, epci_code, population, geometry.

    Duplicate commune codes are an error (the file is the reference list). Invalid
    polygons are repaired; the counts of fixes are returned in a dict.
    """
    gdf = read_vector(path, ["INSEE_COM", "NOM", "INSEE_DEP", "INSEE_REG", "SIREN_EPCI", "POPULATION"])
    code, issues = clean_codes(gdf["INSEE_COM"], path, source)
    dup = code[code.duplicated(keep=False)]
    if len(dup):
        raise InputFileError(path, f"duplicate commune code(s) {sorted(dup.unique())[:10]}: one row per commune expected")
    pop = pd.to_numeric(gdf["POPULATION"], errors="coerce")
    if pop.isna().any():
        raise InputFileError(path, f"{int(pop.isna().sum())} commune(s) without a numeric POPULATION, "
                                   f"e.g. {code[pop.isna()].head(5).tolist()}")
    epci = gdf["SIREN_EPCI"].astype("string").str.split("/").str[0].str.strip()
    geom, n_repaired = repair_geometry(gdf.geometry)
    n_missing = int((geom.isna() | geom.is_empty).sum())
    if n_missing:
        log.warning("%s: %d commune(s) have no geometry: %s", path, n_missing,
                    code[(geom.isna() | geom.is_empty).values].head(10).tolist())
        issues = pd.concat([issues, _issues(code[(geom.isna() | geom.is_empty).values], source,
                                            "missing_value", "commune without a polygon")])
    out = gpd.GeoDataFrame({
        "insee_code": code.astype("string"),
        "name": gdf["NOM"].astype("string"),
        "dep_code": gdf["INSEE_DEP"].astype("string").str.strip(),
        "reg_code": gdf["INSEE_REG"].astype("string").str.strip().str.zfill(2),
        "epci_code": epci.mask(epci.isin(NO_EPCI) | epci.isna()).astype("string"),
        "population": pop.astype("int64"),
    }, geometry=geom.values, crs="EPSG:4326")
    stats = {"communes": len(out), "geometries_repaired": n_repaired, "geometries_missing": n_missing,
             "codes_zero_padded": int((issues["status"] == "fixed").sum())}
    log.info("%s: %d communes, population %d; %d polygon(s) repaired with make_valid",
             path, len(out), int(out["population"].sum()), n_repaired)
    return out.sort_values("insee_code").reset_index(drop=True), issues.reset_index(drop=True), stats


def match_to_communes(codes: pd.Series, current: pd.Series, crosswalk: pd.DataFrame, source: str,
                      ) -> tuple[pd.Series, pd.DataFrame]:
    """Match a source's codes to current communes; every code is matched or listed.

    Returns ``insee_code`` aligned on ``codes`` (NA when unmatched or a
    duplicate) and the issues: codes fixed (zero-padded, or a former code
    mapped through the crosswalk), duplicates (first row kept) and unmatched.
    """
    res = resolve_codes(codes, crosswalk)
    cur = set(current)
    insee = res["insee_code"].where(res["insee_code"].isin(cur))
    issues = [
        _issues(res.loc[res["fix"].eq("zero_padded"), "code"], source, "fixed",
                "lost leading zero restored → " + res.loc[res["fix"].eq("zero_padded"), "insee_code"].fillna("?")),
    ]
    former = (insee.notna() & res["relation"].ne("identity")).fillna(False).astype(bool)
    issues.append(_issues(res.loc[former, "code"], source, "fixed",
                          "former code (" + res.loc[former, "relation"] + ") → " + insee[former]))
    out_of_list = (res["insee_code"].notna() & insee.isna()).astype(bool)
    issues.append(_issues(res.loc[out_of_list, "code"], source, "unmatched",
                          "commune outside the communes file: " + res.loc[out_of_list, "insee_code"]))
    unmatched = res["insee_code"].isna()
    issues.append(_issues(res.loc[unmatched, "code"], source, "unmatched", res.loc[unmatched, "reason"]))
    # Keep one row per current commune: a direct (identity) row wins over a former code.
    order = pd.DataFrame({"insee": insee, "rank": (~res["relation"].eq("identity").fillna(False)).astype(int),
                          "pos": np.arange(len(insee))}, index=codes.index)
    order = order[order["insee"].notna()].sort_values(["insee", "rank", "pos"])
    dup_idx = order.index[order["insee"].duplicated(keep="first")]
    if len(dup_idx):
        issues.append(_issues(res.loc[dup_idx, "code"], source, "duplicate",
                              "duplicate row for commune " + insee[dup_idx] + " (first row kept)"))
        insee = insee.copy()
        insee.loc[dup_idx] = pd.NA
    n_unmatched = int(unmatched.sum() + out_of_list.sum())
    log.info("%s: %d codes, %d matched, %d fixed, %d duplicates, %d unmatched", source, len(codes),
             int(insee.notna().sum()), int(former.sum() + res["fix"].eq("zero_padded").sum()), len(dup_idx), n_unmatched)
    return insee.astype("string"), pd.concat(issues, ignore_index=True)


def missing_communes(current: pd.Series, matched: pd.Series, source: str, what: str) -> pd.DataFrame:
    """Issues rows for current communes the source does not cover."""
    miss = current[~current.isin(set(matched.dropna()))]
    return _issues(miss, source, "missing_value", f"commune absent from the source: no {what}")


def read_density(path: str | os.PathLike[str], current: pd.Series, crosswalk: pd.DataFrame,
                 source: str = "insee_grille_densite") -> tuple[pd.DataFrame, pd.DataFrame]:
    """INSEE 7-level density grid → (insee_code, density_level 1–7) and issues."""
    df, _ = read_csv_text(path, required=["CODGEO", "DENS"])
    if len(df) == 0:
        raise InputFileError(path, "the table has a header but no rows")
    level = pd.to_numeric(df["DENS"], errors="coerce")
    insee, issues = match_to_communes(df["CODGEO"], current, crosswalk, source)
    bad = insee.notna() & ~level.between(1, 7)
    if bad.any():
        issues = pd.concat([issues, _issues(df.loc[bad, "CODGEO"], source, "missing_value",
                                            "DENS is not a level 1–7: " + df.loc[bad, "DENS"].fillna("<empty>"))])
    keep = insee.notna()
    out = pd.DataFrame({"insee_code": insee[keep], "density_level": level[keep].astype("Int64")})
    out.loc[~out["density_level"].between(1, 7).fillna(False), "density_level"] = pd.NA
    issues = pd.concat([issues, missing_communes(current, out["insee_code"], source, "density level")])
    return out.reset_index(drop=True), issues


def read_aav(path: str | os.PathLike[str], labels_path: str | os.PathLike[str] | None, current: pd.Series,
             crosswalk: pd.DataFrame, cog_year: int, source: str = "insee_appartenance_geo",
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """AAV 2020 / UU 2020 membership (COG ``cog_year`` codes) → aav_code, aav_name, aav_category, aav_size_class, uu_code."""
    df, _ = read_csv_text(path, required=["CODGEO", "AAV2020", "TAAV2017", "CATEAAV2020", "UU2020"])
    if len(df) == 0:
        raise InputFileError(path, "the table has a header but no rows")
    insee, issues = match_to_communes(df["CODGEO"], current, crosswalk, source)
    names = df.get("LIBAAV2020", pd.Series(pd.NA, index=df.index, dtype="string")).astype("string")
    if labels_path is not None:
        lab, _ = read_csv_text(labels_path, required=["NIVGEO", "CODGEO", "LIBGEO"])
        lab = lab[lab["NIVGEO"].eq("AAV2020")]
        if "COG" in lab.columns and lab["COG"].eq(str(cog_year)).any():
            lab = lab[lab["COG"].eq(str(cog_year))]
        names = df["AAV2020"].map(lab.drop_duplicates("CODGEO").set_index("CODGEO")["LIBGEO"]).astype("string").fillna(names)
    out = pd.DataFrame({
        "insee_code": insee,
        "aav_code": df["AAV2020"].astype("string").str.strip(),
        "aav_name": names,
        "aav_category": pd.to_numeric(df["CATEAAV2020"], errors="coerce").astype("Int64"),
        "aav_size_class": pd.to_numeric(df["TAAV2017"], errors="coerce").astype("Int64"),
        "uu_code": df["UU2020"].astype("string").str.strip(),
    })[insee.notna()]
    nocat = out["aav_category"].isna()
    if nocat.any():
        issues = pd.concat([issues, _issues(out.loc[nocat, "insee_code"], source, "missing_value",
                                            "CATEAAV2020 empty in the source (classified without an AAV category)")])
    issues = pd.concat([issues, missing_communes(current, out["insee_code"], source, "AAV/UU membership")])
    return out.reset_index(drop=True), issues


def read_epci_nature(path: str | os.PathLike[str]) -> pd.Series:
    """EPCI SIREN → NATURE_EPCI (ME, METLYON, CU, CA, CC) from INSEE's table d'appartenance géographique."""
    df, _ = read_csv_text(path, required=["EPCI", "NATURE_EPCI"])
    df = df[~df["EPCI"].isin(NO_EPCI) & df["NATURE_EPCI"].ne("ZZ")]
    conflicts = df.groupby("EPCI")["NATURE_EPCI"].nunique()
    if (conflicts > 1).any():
        raise InputFileError(path, f"EPCI with several natures: {conflicts[conflicts > 1].index[:5].tolist()}")
    return df.drop_duplicates("EPCI").set_index("EPCI")["NATURE_EPCI"].astype("string")


def read_ruralite(path: str | os.PathLike[str]) -> pd.Series:
    """ANCT's typology of rural communes (``niveau_ruralite``, COG 2025) as commune code → label."""
    df, _ = read_csv_text(path, required=["insee_com", "niveau_ruralite"])
    codes, _ = normalise_insee(df["insee_com"].astype("string").fillna(""))
    return pd.Series(df["niveau_ruralite"].astype("string").str.strip().to_numpy(), index=codes.to_numpy(),
                     name="anct_ruralite").groupby(level=0).first()


def programme_codes_csv(path: str | os.PathLike[str], column: str = "insee_com") -> pd.Series:
    """Commune codes of a programme list given as a CSV (Action Cœur de Ville)."""
    df, _ = read_csv_text(path, required=[column])
    return df[column]


def programme_codes_geojson(path: str | os.PathLike[str], column: str = "liste_geo") -> pd.Series:
    """Commune codes inside ``liste_geo`` strings like 'Bouillante (97106)' (several per territory possible)."""
    gdf = read_vector(path, [column])
    text = gdf[column].astype("string").fillna("")
    codes = text.str.extractall(PROGRAMME_CODE_RE)[0]
    n_none = int((text.str.count(PROGRAMME_CODE_RE) == 0).sum())
    if n_none:
        log.warning("%s: %d feature(s) without a commune code in %s", path, n_none, column)
    return codes.reset_index(drop=True).astype("string")


def programme_membership(codes: pd.Series, current: pd.Series, crosswalk: pd.DataFrame, source: str,
                         ) -> tuple[pd.Series, pd.DataFrame]:
    """Boolean membership per current commune (index = current codes) and issues.

    A commune listed twice is one member, not an issue.
    """
    insee, issues = match_to_communes(codes, current, crosswalk, source)
    issues = issues[issues["status"].ne("duplicate")]
    member = pd.Series(current.isin(set(insee.dropna())).to_numpy(), index=current.to_numpy())
    log.info("%s: %d member communes", source, int(member.sum()))
    return member, issues


def read_admin_layer(path: str | os.PathLike[str], level: str) -> gpd.GeoDataFrame:
    """Départements (dep_code, dep_name, reg_code) or régions (reg_code, reg_name) with polygons, EPSG:4326."""
    if level == "departements":
        gdf = read_vector(path, ["INSEE_DEP", "NOM_DEP", "INSEE_REG"])
        out = gpd.GeoDataFrame({"dep_code": gdf["INSEE_DEP"].astype("string"), "dep_name": gdf["NOM_DEP"].astype("string"),
                                "reg_code": gdf["INSEE_REG"].astype("string").str.zfill(2)}, geometry=gdf.geometry.values,
                               crs="EPSG:4326")
        key = "dep_code"
    elif level == "regions":
        gdf = read_vector(path, ["INSEE_REG", "NOM_REG"])
        out = gpd.GeoDataFrame({"reg_code": gdf["INSEE_REG"].astype("string").str.zfill(2),
                                "reg_name": gdf["NOM_REG"].astype("string")}, geometry=gdf.geometry.values, crs="EPSG:4326")
        key = "reg_code"
    else:
        raise ValueError(f"unknown level {level!r}")
    if out[key].duplicated().any():
        raise InputFileError(path, f"duplicate {key} {out.loc[out[key].duplicated(), key].tolist()[:5]}")
    geom, n = repair_geometry(out.geometry)
    out = out.set_geometry(geom.values)
    if n:
        log.info("%s: %d polygon(s) repaired with make_valid", path, n)
    return out.sort_values(key).reset_index(drop=True)


COMMUNE_COLUMNS = [
    "insee_code", "name", "dep_code", "reg_code", "epci_code", "epci_nature", "population", "population_year",
    "density_level", "density_class", "aav_code", "aav_name", "aav_category", "aav_size_class", "uu_code",
    "metropolis", "acv", "pvd", "village_avenir", "rural", "territory_class", "lon", "lat", "geometry",
]


def assemble_communes(communes: gpd.GeoDataFrame, density: pd.DataFrame, aav: pd.DataFrame,
                      epci_nature: pd.Series, programmes: Mapping[str, pd.Series], population_year: int,
                      rules: Mapping[str, Any]) -> gpd.GeoDataFrame:
    """Join the attributes onto the commune polygons and classify them (columns of docs/contract.md).

    ``programmes`` maps acv / pvd / village_avenir to boolean series indexed by
    commune code. One row per commune in, one row out.
    """
    from coworking_geo.geodesy import centroids_of_polygons
    from coworking_geo.territories.classify import density_class, in_metropolis, is_rural, territory_class

    out = communes.merge(density, on="insee_code", how="left", validate="1:1")
    out = out.merge(aav, on="insee_code", how="left", validate="1:1")
    out["epci_nature"] = out["epci_code"].map(epci_nature).astype("string")
    out["population_year"] = int(population_year)
    out["density_class"] = density_class(out["density_level"])
    out["metropolis"] = in_metropolis(out["epci_nature"])
    for name in ("acv", "pvd", "village_avenir"):
        member = programmes.get(name)
        out[name] = (out["insee_code"].map(member).fillna(False).astype(bool) if member is not None
                     else False)
    out["rural"] = is_rural(out["density_level"])
    out["territory_class"] = territory_class(out, rules)
    # the centroid of every commune, computed once here and read by access, commuting and the typologies
    cent = centroids_of_polygons(out)
    out["lon"], out["lat"] = cent["lon"].to_numpy(), cent["lat"].to_numpy()
    if len(out) != len(communes):
        raise AssertionError("a join changed the number of communes")
    n_nature = int(out["epci_code"].notna().sum() - out["epci_nature"].notna().sum())
    if n_nature:
        log.warning("%d commune(s) have an EPCI code without a known nature", n_nature)
    return gpd.GeoDataFrame(out[COMMUNE_COLUMNS], geometry="geometry", crs="EPSG:4326")


def unclassified(communes: pd.DataFrame, density_path: str | os.PathLike[str],
                 aav_path: str | os.PathLike[str], max_share: float) -> pd.DataFrame:
    """Issues rows for communes classed with a missing input; raises when they exceed ``max_share`` of communes or population.

    The error names the file that left them without a class (density grid or AAV
    table) and the shares, so a truncated source never becomes a default class.
    """
    from coworking_geo.territories.classify import INCOMPLETE_CLASSES, unknown_class_share

    unknown = communes["territory_class"].isin(INCOMPLETE_CLASSES).fillna(True)
    no_density = unknown & communes["density_level"].isna()
    reason = pd.Series("no AAV 2020 category (CATEAAV2020): " + communes["territory_class"].astype(str),
                       index=communes.index)
    reason[no_density] = "no INSEE density level: class unknown"
    issues = _issues(communes.loc[unknown, "insee_code"], "territory_class", "unclassified", reason[unknown])
    share_c, share_p = unknown_class_share(communes)
    if share_c > max_share or share_p > max_share:
        n_dens, n_aav = int(no_density.sum()), int((unknown & ~no_density).sum())
        raise InputFileError(
            density_path if n_dens > n_aav else aav_path,
            f"{int(unknown.sum())} communes ({share_c:.2%} of communes, {share_p:.2%} of the population) are left "
            f"without a territory class, above the allowed {max_share:.2%} "
            f"(territories.classification.max_unknown_share; {n_dens} without a density level, {n_aav} without an "
            "AAV category): the file is probably cut or from another COG",
        )
    return issues


def counts_by(communes: pd.DataFrame, key: str, order: list[str] | None = None,
              labels: pd.Series | None = None) -> pd.DataFrame:
    """Communes and population by ``key``, with shares (0–1) and a total row."""
    g = communes.groupby(key, dropna=False).agg(communes=("insee_code", "size"), population=("population", "sum"))
    if order is not None:
        g = g.reindex([o for o in order if o in g.index] + [i for i in g.index if i not in order], fill_value=0)
    g = g.reset_index()
    g[key] = g[key].astype("string").fillna("(none)")
    if labels is not None:
        g.insert(1, labels.name or "name", g[key].map(labels))
    g["communes_share"] = (g["communes"] / g["communes"].sum()).round(4)
    g["population_share"] = (g["population"] / max(int(g["population"].sum()), 1)).round(4)
    total: dict[str, str | int | float] = {str(c): "" for c in g.columns}
    total.update({key: "total", "communes": int(g["communes"].sum()), "population": int(g["population"].sum()),
                  "communes_share": 1.0, "population_share": 1.0})
    return pd.concat([g, pd.DataFrame([total])], ignore_index=True)
