"""data.gouv.fr datasets whose newest file changes name: pick the resource from the dataset's API record.

``GET https://www.data.gouv.fr/api/1/datasets/{slug}/`` returns the dataset with
its ``resources`` (``title, format, url, latest, last_modified``). A source
file may name, instead of a fixed link, a ``resource`` selector
``{title: <regex>, format: <xlsx|csv…>, period: latest | YYYYTQ}``; the
resource retained is the one of that period (a quarter such as ``2018T1`` read
from its title, or the newest quarter / last modified for ``latest``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import requests

from coworking_geo.errors import RetrieveError

QUARTER_RE = re.compile(r"(20\d\d)\s*[-_ ]?\s*[tTqQ]([1-4])(?!\d)")
QUARTER_FIRST_RE = re.compile(r"(?<![A-Za-z])[tTqQ]([1-4])\s*[-_ ]?\s*(20\d\d)")
TIMEOUT_S = (5.0, 20.0)


def quarter_of(text: str) -> str | None:
    """'2018t1-obs-hd-thd-deploiement.xlsx' or 'Déploiements T1 2018' → '2018T1'; None when no quarter is named."""
    m = QUARTER_RE.search(text or "")
    if m:
        return f"{m.group(1)}T{m.group(2)}"
    m = QUARTER_FIRST_RE.search(text or "")
    return f"{m.group(2)}T{m.group(1)}" if m else None


def pick_resource(dataset: Mapping[str, Any], selector: Mapping[str, str]) -> dict[str, Any]:
    """The resource of ``dataset`` (data.gouv.fr API record) that ``selector`` designates."""
    pattern = re.compile(selector.get("title", ""), re.IGNORECASE)
    fmt = selector.get("format", "").lower()
    period = str(selector.get("period", "latest"))
    found = [r for r in dataset.get("resources", [])
             if (not fmt or str(r.get("format", "")).lower() == fmt)
             and (pattern.search(r.get("title") or "") or pattern.search(r.get("url") or ""))]
    if period != "latest":
        found = [r for r in found if quarter_of(r.get("title") or r.get("url") or "") == period.upper()]
    if not found:
        titles = [r.get("title") for r in dataset.get("resources", [])][:15]
        raise RetrieveError(f"no resource matching {dict(selector)} in the dataset; resources: {titles}")
    return max(found, key=lambda r: (quarter_of(r.get("title") or r.get("url") or "") or "",
                                     str(r.get("last_modified") or "")))


def resolve_url(api_url: str, selector: Mapping[str, str]) -> str:
    """Download link of the resource of the dataset at ``api_url`` that ``selector`` designates."""
    try:
        resp = requests.get(api_url, timeout=TIMEOUT_S, headers={"User-Agent": "coworking-geo"})
        resp.raise_for_status()
        dataset = resp.json()
    except (requests.RequestException, ValueError) as exc:
        raise RetrieveError(f"cannot read the data.gouv.fr record {api_url}: {exc}") from None
    res = pick_resource(dataset, selector)
    return str(res.get("latest") or res["url"])
