"""Which sources a run reads: the mirror's (as today) or the current official publications.

``data_mode`` in config/config.yaml is ``auto`` (the default), ``mirror`` or
``online``. ``auto`` is ``mirror`` when ``COWORKING_GEO_MIRROR`` names a folder
and ``online`` otherwise; the demo territory ignores it. Online, the lists of
``online:`` replace those of ``spaces.sources`` and
``indicators.commuting_sources``: by default the France Tiers-Lieux 2023 census
(with the CGET 2019 list kept as the 2019 vintage) and INSEE's national MOBPRO
base flux, which cover every région. Where each file comes from (mirror copy
or official download) is the retrieve step's business, not this one's.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from coworking_geo.errors import ConfigError

MODES = ("auto", "mirror", "online")
#: the environment variable naming a mirror folder (one folder per source id, like ../shared/data)
MIRROR_ENV = "COWORKING_GEO_MIRROR"


def mirror_dir() -> Path | None:
    """The mirror folder named by ``COWORKING_GEO_MIRROR``, or None."""
    value = os.environ.get(MIRROR_ENV, "").strip()
    return Path(value).expanduser().resolve() if value else None


def resolve_data_mode(setting: str, is_demo: bool, environ: MutableMapping[str, str] | None = None) -> str:
    """'demo', 'mirror' or 'online' for the ``data_mode`` setting and the environment."""
    env = os.environ if environ is None else environ
    if setting not in MODES:
        raise ConfigError(f"data_mode must be one of {MODES}, not {setting!r}")
    if is_demo:
        return "demo"
    has_mirror = bool(env.get(MIRROR_ENV, "").strip())
    if setting == "mirror" and not has_mirror:
        raise ConfigError(f"data_mode: mirror needs {MIRROR_ENV} (e.g. {MIRROR_ENV}=../shared/data); "
                          "use data_mode: online to download the official publications instead")
    if setting == "auto":
        return "mirror" if has_mirror else "online"
    return setting


def apply_data_mode(config: MutableMapping[str, Any], mode: str) -> dict[str, list[Any]]:
    """Put the online source lists into ``config`` when ``mode`` is 'online'; return what changed."""
    if mode != "online":
        return {}
    online = config.get("online") or {}
    changed: dict[str, list[Any]] = {}
    if online.get("spaces_sources"):
        config["spaces"]["sources"] = changed["spaces.sources"] = list(online["spaces_sources"])
    if online.get("commuting_sources"):
        config["indicators"]["commuting_sources"] = changed["indicators.commuting_sources"] = list(
            online["commuting_sources"])
    return changed
