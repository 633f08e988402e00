"""The atlas home page: the synthesis for policymakers, then one card per indicator of the one-page atlas."""

from __future__ import annotations

import html
from typing import Any

from coworking_geo.atlas.themes import fr_number

PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1a1a1a}}
header{{background:#1f3b57;color:#fff;padding:18px 28px}} header h1{{margin:0;font-size:22px;hyphens:manual}}
header p{{margin:6px 0 0;opacity:.9}} header a{{color:#fff;font-weight:600}}
.wrap{{max-width:1100px;margin:0 auto;padding:8px 24px}}
.synthese{{background:#fff;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.12);padding:4px 18px 12px;margin:14px 0}}
.synthese h3{{font-size:16.5px;margin:16px 0 4px;color:#1f3b57}} .synthese .sfig{{color:#1f3b57;white-space:nowrap}}
.synthese .links{{font-size:13.5px;margin:2px 0}} .synthese a{{color:#1f5fa0}} .note{{color:#555;font-size:13px}}
.synthese .limits{{font-size:13px;color:#444;border-left:3px solid #e0c36a;padding-left:10px;margin:6px 0 4px}}
.synthese .limits ul{{margin:2px 0;padding-left:18px}}
.open{{display:inline-block;background:#1f5fa0;color:#fff;padding:8px 14px;border-radius:5px;text-decoration:none;margin:6px 0}}
main{{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:16px;margin:10px 0 20px}}
.card{{background:#fff;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.15);overflow:hidden}}
.card img{{width:100%;height:180px;object-fit:cover;background:#eef2f5;display:block}}
.card div{{padding:8px 12px}} .card h3{{font-size:15px;margin:0 0 4px}} .card a{{color:#1f5fa0;text-decoration:none}}
footer{{padding:12px 28px 28px;color:#444;font-size:13px}}
@media (max-width:500px){{.wrap{{padding:4px 10px}} header{{padding:12px 14px}} header h1{{font-size:19px}}}}
@media print{{header{{background:none;color:#000}} .open,main{{display:none}} .synthese{{box-shadow:none}}}}
</style></head><body>
<header><h1>{title}</h1><p>{subtitle} · <a href="atlas.html">Ouvrir l\u2019atlas interactif</a> ·
<a href="../report.html">Rapport</a> · <a href="../portraits/index.html">Portraits de territoire</a></p></header>
<div class="wrap">
{synthesis}
<h2>Les indicateurs de l\u2019atlas</h2>
<a class="open" href="atlas.html">Ouvrir l\u2019atlas ({size})</a>
<main>
{cards}
</main></div>
<footer><p>{provenance}</p></footer>
</body></html>
"""

CARD = """<section class="card" data-indicator="{key}"><a href="atlas.html#{key}">{img}</a><div><h3>
<a href="atlas.html#{key}">{title}</a></h3><p class="note">{note}</p></div></section>"""


def size_label(n_bytes: int) -> str:
    """'4,0 Mo' / '220 ko'."""
    if n_bytes >= 1_000_000:
        return f"{fr_number(n_bytes / 1e6, 1)}\u202fMo"
    return f"{fr_number(n_bytes / 1e3, 0)}\u202fko"


def index_page(title: str, subtitle: str, synthesis_html: str, indicators: list[dict[str, Any]], atlas_bytes: int,
               provenance: str, pngs: set[str] | None = None) -> str:
    """HTML of the atlas home page; ``indicators`` are the atlas indicators (key, title, note),
    ``pngs`` the keys that have a static map in ``../maps/<key>.png``."""
    cards = "\n".join(CARD.format(
        key=html.escape(i["key"]), title=html.escape(i["title"]), note=html.escape(i.get("note", "")),
        img=(f'<img src="../maps/{html.escape(i["key"])}.png" alt="{html.escape(i["title"])}" loading="lazy">'
             if pngs and i["key"] in pngs else "")) for i in indicators)
    return PAGE.format(title=html.escape(title), subtitle=html.escape(subtitle), synthesis=synthesis_html,
                       cards=cards, size=size_label(atlas_bytes), provenance=html.escape(provenance))
