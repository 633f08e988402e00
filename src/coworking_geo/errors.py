"""Exceptions that name the file or source at fault and say what to do."""

from __future__ import annotations

import os
from pathlib import Path


class CoworkingGeoError(Exception):
    """Base class for the errors this package raises on purpose."""


class InputFileError(CoworkingGeoError):
    """A raw or processed file cannot be used as it is."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{os.fspath(path)}: {problem}")


class RetrieveError(CoworkingGeoError):
    """A source could not be fetched from its URL or from the mirror."""


class ConfigError(CoworkingGeoError):
    """The configuration asks for something that does not exist."""
