"""The catalogue of raw sources (``config/sources.yaml``) and the provenance it gives."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from coworking_geo import __version__
from coworking_geo.errors import ConfigError

DEMO_NOTE = "données de démonstration synthétiques"


@dataclass(frozen=True)
class SourceFile:
    """One file of a source: its name in ``data/raw/{source_id}/``, how to fetch it and how to verify it.

    ``sha256`` and ``size`` (bytes) are those of the file as it lies in ``data/raw/``
    (and in the mirror); ``rows`` is the (min, max) number of records a reader must
    find in it: data rows of a CSV (after ``skip_lines`` title lines), features of a
    GeoJSON or GeoPackage layer, items of a JSON list; ``totals`` are exact sums
    of numeric columns (CSV, GeoPackage), e.g. the population. See docs/integrity.md.
    """

    name: str
    url: str | None = None
    format: str = ""
    mirror_only: bool = False
    min_bytes: int = 0
    sha256: str | None = None
    size: int | None = None
    rows: tuple[int, int] | None = None
    skip_lines: int = 0
    totals: tuple[tuple[str, int], ...] = ()
    convert_from: str | None = None
    compress_download: str | None = None
    convert: str | None = None            # converter of coworking_geo.sources.official: official layout -> mirror layout
    resource: dict[str, str] | None = None  # data.gouv.fr resource selector when `url` is a dataset API record


@dataclass(frozen=True)
class Source:
    """A raw dataset: publisher, vintage, licence and files."""

    id: str
    title: str
    publisher: str
    vintage: str
    licence: str
    page: str
    theme: str
    files: tuple[SourceFile, ...]
    online_only: bool = False
    alternative_urls: tuple[str, ...] = field(default_factory=tuple)

    def citation(self) -> dict[str, str]:
        """Short provenance record for outputs."""
        return {"id": self.id, "title": self.title, "publisher": self.publisher,
                "vintage": self.vintage, "licence": self.licence, "page": self.page}


def load_sources(path: str | os.PathLike[str]) -> dict[str, Source]:
    """Read ``sources.yaml`` into :class:`Source` objects keyed by id."""
    data: dict[str, Any] = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    out: dict[str, Source] = {}
    for sid, entry in data.items():
        files = tuple(SourceFile(**{**f, "rows": _row_range(path, sid, f.get("rows")),
                                    "totals": tuple((str(k), int(v)) for k, v in (f.get("totals") or {}).items())})
                      for f in entry.get("files", []))
        if not files:
            raise ConfigError(f"{path}: source '{sid}' lists no files")
        out[sid] = Source(
            id=sid, title=entry["title"], publisher=entry["publisher"], vintage=str(entry["vintage"]),
            licence=entry["licence"], page=entry["page"], theme=entry["theme"], files=files,
            online_only=bool(entry.get("online_only", False)),
            alternative_urls=tuple(entry.get("alternative_urls", [])),
        )
    return out


def _row_range(path: str | os.PathLike[str], sid: str, value: Any) -> tuple[int, int] | None:
    """``rows:`` of a file in sources.yaml: an exact count or a ``[min, max]`` pair."""
    if value is None:
        return None
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value) and value[0] <= value[1]:
        return (value[0], value[1])
    raise ConfigError(f"{path}: source '{sid}': rows must be a count or [min, max], got {value!r}")


def provenance(sources: dict[str, Source], ids: list[str], territory: str, title: str = "") -> dict[str, Any]:
    """Provenance record for an output built from the sources ``ids``.

    For the demo territory the sources are replaced by a single synthetic-data note.
    """
    if territory == "demo":
        cited: list[dict[str, str]] = [{"id": "demo", "title": DEMO_NOTE, "publisher": "coworking-geo",
                                        "vintage": "générées", "licence": "CC0"}]
    else:
        cited = [sources[i].citation() for i in ids]
    return {
        "title": title_for(title, territory),
        "territory": territory,
        "sources": cited,
        "generated_by": f"coworking-geo {__version__}",
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def title_for(title: str, territory: str) -> str:
    """Add the synthetic-data warning to a title when the territory is the demo."""
    return f"{title} ({DEMO_NOTE})" if territory == "demo" and title else title


def provenance_line(prov: dict[str, Any]) -> str:
    """One human-readable line: 'Sources: X (publisher, vintage, licence); …'."""
    parts = [f"{s['title']} ({s['publisher']}, {s['vintage']}, {s['licence']})" for s in prov["sources"]]
    return "Sources : " + " ; ".join(parts)
