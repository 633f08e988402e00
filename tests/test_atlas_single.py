"""The one-page atlas: files, fixed classes, coverage notes; on the mirror, fibre classes that discriminate."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coworking_geo.atlas.single import ALREADY_FIBRED, CLASSES, atlas_files, class_index, geometry_file, read_js

REPO = Path(__file__).resolve().parents[1]


def test_atlas_files_from_fixture() -> None:
    from test_atlas import make_inputs

    inp = make_inputs()
    files = atlas_files(inp, "Atlas — test", "none", "Sources : test", "Sources ▸")
    assert set(files) == {"atlas.html", "data.js"}
    page = files["atlas.html"]
    assert '<script src="communes.js"></script>' in page and '<script src="data.js"></script>' in page
    assert not re.search(r'<(?:script[^>]+src|link[^>]+href)="https?://', page)   # offline: nothing fetched
    geom, data = read_js(geometry_file(inp.communes, inp.departements)), read_js(files["data.js"])
    assert geom["p"] == 3
    assert len(geom["g"]) == len(geom["n"]) == len(inp.communes) == 30 and len(geom["d"]) == 2
    keys = [i["key"] for i in data["indicators"]]
    assert keys[:2] == ["spaces", "territory_class"] and "fibre_share" in keys and "priority" in keys
    by = {i["key"]: i for i in data["indicators"]}
    assert by["spaces"]["kind"] == "symbols" and by["fibre_share"]["kind"] == "choro"   # counts vs rates
    assert all(len(i.get("c", i.get("s", []))) == 30 for i in data["indicators"])
    assert by["priority"]["na"] == "Commune non prioritaire"
    assert len(data["places"]["rows"]) == int(pd.to_numeric(inp.spaces["lat"], errors="coerce").notna().sum())
    online = atlas_files(inp, "Atlas — test", "OpenStreetMap", "Sources : test", "Sources ▸")["atlas.html"]
    assert "window.CG_TILES=null;" in page and "tile.openstreetmap.org" in online   # base map only on request


def test_fixed_classes_are_the_same_for_any_territory() -> None:
    v = pd.Series([0.1, 0.55, 0.85, 0.92, 0.96, 0.99, 1.0, np.nan])
    assert class_index(v, CLASSES["fibre_share"]).tolist() == [0, 1, 2, 3, 4, 5, 6, -1]
    assert class_index(v.iloc[3:5], CLASSES["fibre_share"]).tolist() == [3, 4]   # same limits on a subset
    ch = pd.Series([-0.1, 0.0, 0.3, 0.9, 0.99])
    assert class_index(ch, CLASSES["fibre_change"]).tolist() == [0, 0, 1, 3, 4]


@pytest.mark.mirror
def test_france_fibre_classes_discriminate() -> None:
    data_js = REPO / "results" / "france" / "atlas" / "data.js"
    ind_path = REPO / "data" / "processed" / "france" / "indicators.parquet"
    if not data_js.exists() or not ind_path.exists():
        pytest.skip("France atlas not built (snakemake --config territory=france)")
    by = {i["key"]: i for i in read_js(data_js.read_text(encoding="utf-8"))["indicators"]}
    c = np.array(by["fibre_share"]["c"])
    shares = np.bincount(c[c >= 0]) / (c >= 0).sum()
    ind = pd.read_parquet(ind_path, columns=["ftth_share_latest", "ftth_share_2018T1", "ftth_share_change"])
    old_top = (ind["ftth_share_latest"].dropna() >= 0.95).mean()
    assert old_top > 0.7              # the former top class "95 % et plus" held 73 % of communes
    assert shares.max() < 0.4         # no class holds more than 40 % now
    # fibre change: communes already fibred in 2018 have their own class, not "baisse ou stable"
    ch = np.array(by["fibre_change"]["c"])
    already = (pd.to_numeric(ind["ftth_share_2018T1"], errors="coerce") >= ALREADY_FIBRED).to_numpy()
    assert already.sum() > 0 and (ch[already] == len(CLASSES["fibre_change"].labels)).all()
    # commuting is known for part of France only: said in the title and the legend note
    assert "(communes aux flux connus)" in by["commuting_share"]["title"]
    assert by["commuting_share"]["note"].startswith("Connu pour 1\u202f652 communes sur 34\u202f935")
