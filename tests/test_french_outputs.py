"""Every generated page a policymaker reads is in French: no English word, no raw column name.

Scans the visible text (text nodes outside script/style, and the title, alt,
placeholder and aria-label attributes) of report.html, the atlas home page, the
one-page atlas (with the texts of its data.js: titles, legends, notes) and every
portrait, for each built territory under results/ (France, the Orne, the demo).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from coworking_geo.atlas.single import read_js

REPO = Path(__file__).resolve().parents[1]

#: English words seen in earlier outputs or likely in ours (whole words, case-insensitive)
ENGLISH = ["synthetic", "demo data", "simplified", "individual records", "about", "probably", "free reuse",
           "attribution", "with", "the", "and", "of", "outside", "coverage", "only", "missing", "share", "count",
           "rank", "commuters", "flows", "spaces", "model", "profile", "fibre share", "generated",
           "unknown", "total population", "residents", "unmatched", "dropped", "none", "true", "false", "nan"]
#: raw column names (snake_case) that must not reach a reader
RAW = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
ALLOWED_RAW = set()  # file names are the only snake_case texts allowed, and are matched separately
FILE_NAME = re.compile(r"\b[\w-]+\.(?:csv|html|png|js)\b")


class Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self._tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # scripts, styles and proper names (a place called "The Fashion Loft", marked translate="no")
        if tag in ("script", "style") or ("translate", "no") in attrs:
            self._skip += 1
            self._tags.append(tag)
        for k, v in attrs:
            if k in ("title", "alt", "placeholder", "aria-label") and v:
                self.parts.append(v)

    def handle_endtag(self, tag: str) -> None:
        if self._tags and tag == self._tags[-1]:
            self._skip -= 1
            self._tags.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    p = Visible()
    p.feed(page)
    return " ".join(p.parts)


def data_js_texts(path: Path) -> str:
    """The reader-facing strings of the atlas data.js (indicator titles, labels, legends, notes, filters)."""
    d = read_js(path.read_text(encoding="utf-8"))
    out = []
    for ind in d["indicators"]:
        out += [ind["title"], ind["label"], ind.get("note", ""), ind.get("na", "")]
        out += [it["l"] for it in ind["legend"]]
    pl = d["places"]
    out += pl["types"] + pl["models"] + pl["labels"]  # place names are proper names: not scanned
    return " ".join(out)


def offences(text: str) -> list[str]:
    text = FILE_NAME.sub(" ", text)
    found = [w for w in ENGLISH if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text, flags=re.IGNORECASE)]
    found += sorted(set(RAW.findall(text)) - ALLOWED_RAW)
    found += re.findall(r"\bdep-\d\w\b|\b0,0000\b|\b\d+,\d+ (?:navetteurs|actifs)\b", text)
    return found


def pages(territory: str) -> list[Path]:
    root = REPO / "results" / territory
    out = [root / "report.html", root / "atlas" / "index.html", root / "atlas" / "atlas.html"]
    out += sorted((root / "portraits").glob("*.html"))
    return [p for p in out if p.exists()]


@pytest.mark.parametrize("territory", ["france", "dep-61", "demo"])
def test_generated_pages_are_french(territory: str) -> None:
    found = pages(territory)
    if not found:
        pytest.skip(f"results/{territory} not built")
    bad = {}
    for p in found:
        page = p.read_text(encoding="utf-8")
        assert "hyphens:auto" not in page, p   # automatic hyphenation cut "Normandie" as "Norman-die"
        text = visible_text(page)
        if p.name == "atlas.html" and (p.parent / "data.js").exists():
            text += " " + data_js_texts(p.parent / "data.js")
        hits = offences(text)
        if hits:
            bad[str(p.relative_to(REPO))] = hits[:12]
    assert bad == {}


def test_the_scanner_catches_english_and_raw_names() -> None:
    assert offences("Sources : synthetic demo data (coworking-geo)") == ["synthetic", "demo data"]
    assert offences("Rang site_rank : 3 ; fibre_share : 0,98") == ["fibre_share", "site_rank"]
    assert offences("Orne (61), voir tables/priority_territories.csv") == []
    assert offences("dep-61 : 0,0000 lieux") == ["dep-61", "0,0000"]
