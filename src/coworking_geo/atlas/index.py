"""The atlas index page: one card per map (title, description, size, thumbnail, link)."""

from __future__ import annotations

import html
from typing import Any

from coworking_geo.atlas.themes import fr_number

PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1a1a1a}}
header{{background:#1f3b57;color:#fff;padding:18px 28px}} header h1{{margin:0;font-size:22px}}
header p{{margin:6px 0 0;opacity:.85}} main{{padding:20px 28px;display:grid;
grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:18px}}
.card{{background:#fff;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.15);overflow:hidden}}
.card img{{width:100%;height:220px;object-fit:cover;background:#eef2f5;display:block}}
.card div{{padding:10px 14px}} .card h2{{font-size:16px;margin:0 0 6px}} .card a{{color:#1f5fa0;text-decoration:none}}
.meta{{color:#666;font-size:13px}} footer{{padding:12px 28px 28px;color:#444;font-size:13px}}
</style></head><body>
<header><h1>{title}</h1><p>{subtitle}</p></header>
<main>
{cards}
</main>
<footer><p>{provenance}</p><p><a href="../report.html">Rapport de synthèse</a></p></footer>
</body></html>
"""

CARD = """<section class="card" data-map="{key}"><a href="{key}.html"><img src="../maps/{key}.png" alt="{alt}"
 loading="lazy"></a><div><h2><a href="{key}.html">{title}</a></h2><p>{description}</p>
<p class="meta">{polygons} communes, {points} points · {size}</p></div></section>"""


def size_label(n_bytes: int) -> str:
    """'4,0 Mo' / '220 ko'."""
    if n_bytes >= 1_000_000:
        return f"{fr_number(n_bytes / 1e6, 1)}\u202fMo"
    return f"{fr_number(n_bytes / 1e3, 0)}\u202fko"


def index_page(title: str, subtitle: str, summaries: list[dict[str, Any]], provenance: str) -> str:
    """HTML of the index; ``summaries`` as returned by :func:`coworking_geo.atlas.build.build_map`."""
    cards = "\n".join(CARD.format(
        key=html.escape(s["key"]), title=html.escape(s["title"]), alt=html.escape(s["title"]),
        description=html.escape(s["description"]), polygons=fr_number(s["polygons"]), points=fr_number(s["points"]),
        size=size_label(int(s["bytes"]))) for s in summaries)
    return PAGE.format(title=html.escape(title), subtitle=html.escape(subtitle), cards=cards,
                       provenance=html.escape(provenance))
