"""The report: figures and tables in report.html equal the processed tables and results CSVs."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from coworking_geo.report.page import (
    MISSION_PUBLISHED,
    SKIP_WHEN_EMPTY,
    TABLES,
    format_value,
    headline_figures,
    mission_comparison,
    render_report,
    split_columns,
)
from coworking_geo.sources.catalogue import load_sources

REPO = Path(__file__).resolve().parents[1]


class ReportParser(HTMLParser):
    """Collect data-figure values; per data-table, rows of data-value cells keyed by data-col (main and
    details parts of one table merged row by row); per table, the columns written once (data-const)."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.tables: dict[str, list[dict[str, str]]] = {}
        self.consts: dict[str, dict[str, str]] = {}
        self.sources: list[str] = []
        self._table: str | None = None
        self._row = -1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "data-figure" in a:
            self.figures[a["data-figure"] or ""] = a.get("data-value") or ""
        if "data-const" in a:
            self.consts.setdefault(a["data-const"] or "", {})[a["data-col"] or ""] = a.get("data-value") or ""
        if tag == "table" and "data-table" in a:
            self._table = a["data-table"] or ""
            self.tables.setdefault(self._table, [])
            self._row = -1
        elif tag == "tr" and self._table is not None:
            if "data-source" in a:
                self.sources.append(a["data-source"] or "")
        if tag == "tr" and self._table is not None:
            self._row += 1
        if tag == "td" and self._table is not None and "data-value" in a:
            rows = self.tables[self._table]
            while len(rows) <= self._row:
                rows.append({})
            col = a.get("data-col") or str(len(rows[self._row]))
            assert col not in rows[self._row], (self._table, self._row, col)  # a column shown once only
            rows[self._row][col] = a["data-value"] or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None


def parse(page: str) -> ReportParser:
    p = ReportParser()
    p.feed(page)
    for rows in p.tables.values():
        rows[:] = [r for r in rows if r]
    return p


def same(cell: str, value: object) -> bool:
    if pd.isna(value):  # type: ignore[arg-type]
        return cell == ""
    try:
        return float(cell) == pytest.approx(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return cell == str(value)


def assert_table_matches(parsed: ReportParser, name: str, df: pd.DataFrame) -> None:
    """Every column of every shown row is in the page (cell or one-off sentence) with the table's raw value."""
    rows = parsed.tables[name]
    consts = parsed.consts.get(name, {})
    assert len(rows) == min(len(df), 60), name
    _, _, tech = split_columns(df.head(60), name)
    for r, (_, expected) in zip(rows, df.drop(columns=tech).iterrows(), strict=False):
        cells = {**consts, **r}
        assert set(cells) == {str(c) for c in df.columns} - set(tech), (name, sorted(set(cells) ^ set(map(str, df.columns))))
        assert not set(consts) & set(r), name
        assert all(same(cells[str(c)], v) for c, v in expected.items()), (name, r, expected.tolist())


def test_report_numbers_equal_tables() -> None:
    from test_atlas import make_frames

    f = make_frames()
    communes, spaces, ind, progs = f["communes"], f["spaces"], f["indicators"], f["programmes"]
    tables = {
        "communes_by_territory_class.csv": communes.groupby("territory_class", as_index=False)
        .agg(communes=("insee_code", "size"), population=("population", "sum")),
        "priority_territories.csv": f["priority"], "proposed_sites.csv": f["sites"],
        "mission_shares.csv": pd.DataFrame({"indicator": ["coworking_share_of_typed", "outside_metropolises_share"],
                                            "published": [0.76, 0.4607], "ours": [0.7641, 0.4615]}),
    }
    figs = headline_figures(communes, spaces, ind, progs, f["priority"], f["sites"])
    mission = mission_comparison(spaces, communes, tables["mission_shares.csv"])
    sources = load_sources(REPO / "config" / "sources.yaml")
    page = render_report("Diagnostic — test", "demo", figs, mission, tables,
                         [sources["cget_tierslieux_2019"], sources["arcep_ftth_2018t1"]])
    p = parse(page)
    assert "données de démonstration synthétiques" in page and "Diagnostic — test (données de démonstration synthétiques)" in page
    assert p.figures["n_communes"] == "30" and p.figures["n_spaces"] == "8"
    assert p.figures["n_communes_with_space"] == "7" and p.figures["population"] == str(sum(range(30)) * 100 + 30 * 50)
    assert p.figures["n_fabriques"] == "2" and p.figures["n_manufactures"] == "1"
    assert float(p.figures["share_pop_within_10km"]) == pytest.approx(ind["pop_within_10km"].sum()
                                                                      / communes["population"].sum())
    for name, df in tables.items():
        if name != "mission_shares.csv":  # shown through the mission comparison, checked below
            assert_table_matches(p, name, df)
    published = {r["published"]: r for r in p.tables["mission_published"]}
    assert len(p.tables["mission_published"]) == 4
    assert [float(r["published"]) for r in p.tables["mission_published"]] == [v for _, v in MISSION_PUBLISHED.values()]
    assert p.tables["mission_published"][1]["ours"] == "8"          # places found: the list's spaces
    assert float(p.tables["mission_published"][2]["ours"]) == 0.7641  # from mission_shares.csv
    assert published and p.sources == ["cget_tierslieux_2019", "arcep_ftth_2018t1"]
    assert "Licence Ouverte 2.0" in page and "2018 T1 (COG 2018)" in page
    assert format_value(0.7641, "pct") == "76,4\u202f%" and format_value(1463) == "1\u202f463"


@pytest.mark.mirror
def test_france_report_equals_processed_tables() -> None:
    """The built France report shows the numbers of data/processed/france and results/france/tables."""
    report = REPO / "results" / "france" / "report.html"
    proc = REPO / "data" / "processed" / "france"
    if not report.exists():
        pytest.skip("results/france/report.html not built: snakemake --cores 2 results/france/report.html "
                    "--config territory=france")
    p = parse(report.read_text(encoding="utf-8"))
    communes = pd.read_parquet(proc / "communes.parquet", columns=["insee_code", "population"])
    spaces = pd.read_parquet(proc / "spaces.parquet", columns=["space_id", "insee_code"])
    assert int(p.figures["n_communes"]) == len(communes) == 34935
    assert int(p.figures["n_spaces"]) == len(spaces)
    assert int(p.figures["n_communes_with_space"]) == spaces["insee_code"].dropna().nunique()
    assert int(p.figures["population"]) == int(communes["population"].sum())
    tables = REPO / "results" / "france" / "tables"
    for name, _, _ in TABLES:
        if (tables / name).exists():
            df = pd.read_csv(tables / name, dtype={c: str for c in ("insee_code", "reg_code", "dep_code", "epci_code")})
            if name in SKIP_WHEN_EMPTY and df.empty:
                assert name not in p.tables  # one list of places: nothing to compare, no section
                continue
            assert_table_matches(p, name, df)
    # the count of places is the register's; the title names the lists and their years; places.csv is offered
    assert "Lieux recensés en 2019 (CGET) et lauréats 2024 des programmes de l\u2019ANCT" in report.read_text(encoding="utf-8")
    assert int(p.figures["n_fabriques"]) == spaces.merge(
        pd.read_parquet(proc / "spaces.parquet", columns=["space_id", "fabrique"]))["fabrique"].str.split(";").explode().ne("").sum()
    assert len(pd.read_csv(tables / "places.csv", dtype=str)) == len(spaces)
    shares = pd.read_csv(tables / "mission_shares.csv").set_index("indicator")["ours"]
    rows = p.tables["mission_published"]
    assert float(rows[2]["ours"]) == pytest.approx(shares["coworking_share_of_typed"])
    assert float(rows[3]["ours"]) == pytest.approx(shares["outside_metropolises_share"])


def test_report_tables_read_in_french() -> None:
    """French headers and labels, k_reason once as a French sentence, technical columns folded away."""
    from coworking_geo.report.page import table_html

    reason = ("k=3 has the best mean rank (1.33) over 3 criteria among k=3..8: silhouette 0.548 (rank 2, best k=7)")
    df = pd.DataFrame({"model_id": [1, 2, 3], "model_name": ["Pôle de coworking métropolitain", "Fab-lab rural isolé",
                                                             "Coworking périurbain"],
                       "chosen_k": 3, "k_reason": reason, "n_spaces": [1463, 20, 5], "share": [0.764, 0.2, 0.036],
                       "dominant_territory_class": ["metropole", "rural_sous_influence", "periurbain"],
                       "z_fibre_share": [0.1, -0.2, 0.3]})
    page = table_html(df, "space_model_profiles.csv")
    p = parse(page)
    assert_table_matches(p, "space_model_profiles.csv", df)
    assert page.count("data-col=\"k_reason\"") == 1 and "Nombre de groupes retenu : 3." in page
    assert "meilleur rang moyen (1,33) sur 3 critères" in page and "has the best" not in page.split("data-value")[0]
    assert ">Modèle</th>" in page and ">Espaces</th>" in page and ">Classe dominante</th>" in page
    assert ">Grande agglomération<" in page and ">Couronne périurbaine<" in page and ">1\u202f463<" in page and ">76,4\u202f%<" in page
    assert "z_fibre_share" not in page and 'data-technical="space_model_profiles.csv" data-n="1"' in page  # in the CSV only


def test_model_fit_sentences_k_choice_and_unstable_title() -> None:
    """The fit table becomes French sentences above it; the stability-first reason reads in French."""
    from coworking_geo.report.page import section_text, section_title, table_html

    fit = pd.DataFrame({"model_id": [1, 1, 2, 2], "model_name": ["Coworking en pôle"] * 2 + ["Fab-lab isolé"] * 2,
                        "territory_class": ["metropole", "rural"] * 2, "n_places": [90, 10, 20, 30],
                        "share": [0.9, 0.1, 0.4, 0.6], "class_share": [110 / 150, 40 / 150] * 2,
                        "expected": [73.3, 26.7, 36.7, 13.3], "lift": [90 / 73.3, 10 / 26.7, 20 / 36.7, 30 / 13.3],
                        "fisher_p": [1e-9, 1e-9, 1e-9, 1e-9], "chi2": 40.0, "chi2_dof": 1, "chi2_p": 1e-10,
                        "cramers_v": 0.52})
    text = section_text("model_fit_by_territory_class.csv", fit)
    assert text.count('data-sentence="model_fit_by_territory_class.csv"') == 4
    assert "« Fab-lab isolé » sont 2,3 fois plus fréquents en rural (30 lieux, 60 % du modèle contre 27 %" in text
    assert "p &lt; 0,001" in text and "V de Cramér = 0,52" in text and "Limites" in text
    reason = ("k=4: no k reaches bootstrap stability 0.80: most stable k (ARI 0.52) among k=3..8; best k by "
              "silhouette 3, calinski_harabasz 8, davies_bouldin 8 [unstable: ARI below 0.60]")
    prof = pd.DataFrame({"model_id": [1, 2], "model_name": ["A (typologie instable)", "B (typologie instable)"],
                         "chosen_k": 4, "k_reason": reason, "n_spaces": [3, 2], "typology_unstable": True})
    page = table_html(prof, "space_model_profiles.csv")
    assert "Aucun nombre de groupes n&#x27;atteint le seuil de stabilité" in page
    assert "silhouette : 3 ; Calinski-Harabasz : 8 ; Davies-Bouldin : 8" in page and "Typologie instable" in page
    assert section_title("Modèles de lieux", prof) == "Modèles de lieux (typologie instable)"
