"""Shared helpers: code repair, territory parsing, atomic writers, robust CSV reading."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from coworking_geo.codes import dep_of, normalise_insee
from coworking_geo.errors import ConfigError, InputFileError
from coworking_geo.io import (
    atomic_path,
    parse_decimal,
    read_csv_text,
    read_provenance,
    read_table,
    write_parquet,
)
from coworking_geo.sources.catalogue import provenance, provenance_line, title_for
from coworking_geo.territories.territory import parse_territory


def test_normalise_insee_repairs_and_flags() -> None:
    codes, fix = normalise_insee(pd.Series(["1001", "01001", " 2a004 ", "97411", "0", None, "75056.0", "ABCDE"]))
    assert codes.tolist()[:5] == ["01001", "01001", "2A004", "97411", None] or pd.isna(codes[4])
    assert codes[6] == "75056"
    assert fix.tolist()[:3] == ["zero_padded", "", "cleaned"]
    assert fix[4] == "invalid" and fix[7] == "invalid"
    assert pd.isna(codes[7])


def test_dep_of() -> None:
    assert [dep_of(c) for c in ["61001", "2A004", "97411"]] == ["61", "2A", "974"]


@pytest.mark.parametrize(("spec", "kind", "code"), [
    ("demo", "demo", None), ("france", "france", None), ("reg-11", "reg", "11"),
    ("dep-61", "dep", "61"), ("dep-2A", "dep", "2A"), ("dep-974", "dep", "974"),
])
def test_parse_territory(spec: str, kind: str, code: str | None) -> None:
    t = parse_territory(spec)
    assert (t.kind, t.code) == (kind, code)


def test_territory_selects_communes() -> None:
    dep = pd.Series(["61", "14", "974", "2A"])
    reg = pd.Series(["28", "28", "04", "94"])
    assert parse_territory("dep-61").select(dep, reg).tolist() == [True, False, False, False]
    assert parse_territory("reg-28").select(dep, reg).tolist() == [True, True, False, False]
    assert parse_territory("metropole").select(dep, reg).tolist() == [True, True, False, True]


@pytest.mark.parametrize("bad", ["dep-999", "region-11", "FRANCE", "dep-2C"])
def test_parse_territory_rejects(bad: str) -> None:
    with pytest.raises(ConfigError, match="territory"):
        parse_territory(bad)


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_geoparquet_roundtrip_with_provenance(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"insee_code": ["61001"]}, geometry=[Point(0.1, 48.4)], crs=4326)
    path = write_parquet(gdf, tmp_path / "x.parquet", {"sources": [{"id": "a"}]})
    back = read_table(path)
    assert isinstance(back, gpd.GeoDataFrame) and back.crs.to_epsg() == 4326
    assert back.insee_code.tolist() == ["61001"]
    assert read_provenance(path) == {"sources": [{"id": "a"}]}


def test_read_csv_latin1_semicolon(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    p.write_bytes("CODGEO;LIBGEO;VAL\n01001;Abergement-Clémenciat;1,5\n".encode("latin-1"))
    df, info = read_csv_text(p, ["CODGEO", "LIBGEO"])
    assert info == {"encoding": "cp1252", "sep": ";"}
    assert df.LIBGEO[0] == "Abergement-Clémenciat" and df.CODGEO[0] == "01001"
    assert parse_decimal(df.VAL).tolist() == [1.5]


def test_read_csv_errors_name_the_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputFileError, match="empty.csv: the file is empty"):
        read_csv_text(empty)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("CODGEO|LIBGEO\n01001|A\n")
    with pytest.raises(InputFileError, match=r"wrong.csv: missing required column"):
        read_csv_text(wrong, ["CODGEO", "LIBGEO"], sep=";")


def test_parse_decimal_handles_padding_and_dashes() -> None:
    assert parse_decimal(pd.Series([" 81    ", " -    ", "1 234,5", ""])).tolist()[0] == 81.0
    out = parse_decimal(pd.Series([" 81    ", " -    ", "1 234,5", ""]))
    assert pd.isna(out[1]) and out[2] == 1234.5 and pd.isna(out[3])


def test_demo_titles_and_provenance() -> None:
    assert title_for("Espaces", "demo") == "Espaces (données de démonstration synthétiques)"
    assert title_for("Espaces", "dep-61") == "Espaces"
    prov = provenance({}, ["anything"], "demo", "Carte")
    assert "données de démonstration synthétiques" in provenance_line(prov)
