"""The synthesis for policymakers and the portraits: every figure recomputed from its table.

The France tests read the built outputs (``snakemake --config territory=france`` with
``COWORKING_GEO_MIRROR``) and skip with a reason when they are absent.
"""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from coworking_geo.io import read_codes_csv
from coworking_geo.report.synthesis import Fig, recompute, sentence, synthesis, synthesis_html, vintage_fr

REPO = Path(__file__).resolve().parents[1]
FRANCE = REPO / "results" / "france"


class SynthParser(HTMLParser):
    """Per question (data-question): its figures (data-synth-fig attributes) and its limits (li under .limits)."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[str] = []
        self.figs: dict[str, list[dict[str, str]]] = {}
        self.limits: dict[str, list[str]] = {}
        self.q: str | None = None
        self._in_limits = False
        self._li: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "data-question" in a:
            self.q = a["data-question"]
            self.order.append(self.q)
            self.figs[self.q], self.limits[self.q] = [], []
        if self.q and "data-synth-fig" in a:
            self.figs[self.q].append(a)
        if self.q and a.get("class") == "limits":
            self._in_limits = True
        if self._in_limits and tag == "li":
            self._li = []

    def handle_data(self, data: str) -> None:
        if self._li is not None:
            self._li.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self._li is not None and self.q:
            self.limits[self.q].append("".join(self._li).strip())
            self._li = None
        if tag == "div" and self._in_limits and self._li is None:
            self._in_limits = False


def check_synthesis(page: str, tables_dir: Path) -> SynthParser:
    """Every figure of the synthesis equals its table; returns the parsed synthesis."""
    p = SynthParser()
    p.feed(page)
    for q, figs in p.figs.items():
        for f in figs:
            df = read_codes_csv(tables_dir / f["data-table"])
            expected = recompute(df, f["data-where"], f["data-col"], f["data-agg"])
            assert float(f["data-value"]) == pytest.approx(expected, rel=1e-12), (q, f)
    return p


@pytest.fixture(scope="module")
def france_report() -> str:
    path = FRANCE / "report.html"
    if not path.exists():
        pytest.skip("results/france/report.html not built (COWORKING_GEO_MIRROR=… snakemake --config territory=france)")
    return path.read_text(encoding="utf-8")


def test_france_report_opens_with_the_four_answers(france_report: str) -> None:
    body = france_report.split("<body>", 1)[1]
    first_h2 = re.search(r"<h2[^>]*>([^<]+)</h2>", body)
    assert first_h2 and first_h2.group(1) == "Synthèse pour décideurs"
    p = check_synthesis(france_report, FRANCE / "tables")
    assert p.order == ["ou", "manque", "modeles", "financer"]
    for q in p.order:
        assert len(p.figs[q]) >= 1, q      # at least one figure, each equal to its table (checked above)
        assert len(p.limits[q]) >= 1, q    # at least one stated limit
    # named facts from the France tables: the register's 1,944 places (1,500 of the 2019 list and the laureates)
    total = read_codes_csv(FRANCE / "tables" / "diagnosis_by_territory_class.csv").set_index("territory_class")
    where = {(f["data-col"], f["data-where"]): float(f["data-value"]) for f in p.figs["ou"]}
    register = pd.read_parquet(REPO / "data" / "processed" / "france" / "spaces.parquet", columns=["source"])
    assert where[("spaces", "territory_class=total")] == total.loc["total", "spaces"] == len(register) == 1944
    assert register["source"].eq("cget_tierslieux_2019").sum() == 1500
    assert where[("communes", "territory_class=total")] == 34935
    assert "vol d\u2019oiseau" in " ".join(p.limits["manque"])
    assert "1\u202f652" in france_report  # communes with commuting flows (Île-de-France and the Orne)


def test_france_atlas_index_opens_with_the_synthesis() -> None:
    path = FRANCE / "atlas" / "index.html"
    if not path.exists():
        pytest.skip("results/france/atlas/index.html not built")
    page = path.read_text(encoding="utf-8")
    p = check_synthesis(page, FRANCE / "tables")
    assert p.order == ["ou", "manque", "modeles", "financer"]
    assert 'href="atlas.html#spaces"' in page and 'href="../tables/diagnosis_by_territory_class.csv"' in page


def test_absent_tables_omit_their_sentences() -> None:
    diag = pd.DataFrame({"territory_class": ["metropole", "rural", "total"], "communes": [2, 8, 10],
                         "spaces": [5, 1, 6], "communes_with_space": [2, 1, 3], "spaces_per_100k": [5.0, 1.0, 3.0],
                         "population_share_within_10km": [0.9, 0.2, 0.6], "communes_with_flows": [0, 0, 0]})
    answers = synthesis({"diagnosis_by_territory_class.csv": diag}, "liste test, juin 2019")
    html = synthesis_html(answers, "test")
    assert "Saint" not in html and "nouveaux lieux" not in html    # no priority or sites table: no sentence
    assert [a.key for a in answers] == ["ou", "manque", "modeles", "financer"]
    assert answers[0].html_figures() >= 3 and "6</b> lieux" in answers[0].sentences[0]
    assert answers[3].sentences == [] and "ne sont pas disponibles" in html
    assert all(a.limits for a in answers)
    assert recompute(diag, "territory_class=rural", "spaces", "value") == 1
    assert math.isnan(recompute(diag, "nope=1", "spaces", "value"))
    assert vintage_fr("2019-06") == "juin 2019" and vintage_fr("2018T1") == "2018 T1"
    one = Fig(1.0, "int", "t.csv", "spaces")
    assert sentence("{} lieux dans {} communes.", one, Fig(3.0, "int", "t.csv", "c")).endswith(
        "</b> lieu dans <b class=\"sfig\" data-synth-fig data-table=\"t.csv\" data-where=\"\" data-col=\"c\" "
        "data-agg=\"value\" data-value=\"3.0\">3</b> communes.")


def test_france_portraits() -> None:
    folder = FRANCE / "portraits"
    if not folder.exists():
        pytest.skip("results/france/portraits not built")
    pages = sorted(folder.glob("*.html"))
    deps = read_codes_csv(FRANCE / "tables" / "diagnosis_by_region.csv")
    assert len([p for p in pages if p.name != "index.html"]) == 101
    orne = (folder / "61.html").read_text(encoding="utf-8")
    assert "Portrait de territoire — Orne (61)" in orne and "Région Normandie" in orne
    values = {(m.group(1), m.group(2)): float(m.group(3)) for m in
              re.finditer(r'data-ind="(\w+)" data-scope="(\w+)" data-value="([^"]+)"', orne)}
    norm = deps.set_index("reg_code").loc["28"]
    tot = deps.set_index("reg_code").loc["total"]
    for col in ("communes", "population", "spaces", "population_share_within_10km", "fibre_share"):
        assert values[(col, "reg")] == pytest.approx(float(norm[col]), abs=1e-4), col
        assert values[(col, "fr")] == pytest.approx(float(tot[col]), abs=1e-4), col
    # the Orne's communes and places: 4 of the 2019 list and 3 laureates
    assert values[("communes", "dep")] == 385 and values[("spaces", "dep")] == 7
    assert "Alençon" in orne and "<svg" in orne and orne.count('class="chart"') == 3
    # every portrait compares with its région and France
    for p in pages[:101]:
        if p.name != "index.html":
            assert p.read_text(encoding="utf-8").count('data-scope="reg"') >= 8, p.name
