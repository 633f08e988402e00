"""Logging set-up: one format for the library, and the rule's ``log:`` file under Snakemake."""

from __future__ import annotations

import contextlib
import logging
import resource
import sys
from collections.abc import Iterator
from typing import Any

from threadpoolctl import threadpool_limits

from coworking_geo.errors import CoworkingGeoError

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

def get_logger(name: str) -> logging.Logger:
    """The package logger for module ``name``."""
    return logging.getLogger(name)


def setup_logging(logfile: str | None = None, level: int = logging.INFO) -> None:
    """Send package messages to ``logfile`` (or stderr) with timestamps."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if logfile:
        handlers.append(logging.FileHandler(logfile, mode="w", encoding="utf-8"))
    logging.basicConfig(level=level, format=FORMAT, handlers=handlers, force=True)
    logging.captureWarnings(True)


def setup_snakemake_logging(smk: Any) -> None:
    """Route logging to the rule's first ``log:`` file."""
    log = list(getattr(smk, "log", []) or [])
    setup_logging(str(log[0]) if log else None)


@contextlib.contextmanager
def snakemake_script(smk: Any) -> Iterator[logging.Logger]:
    """Set up logging for a rule's script and turn the package's errors into one clear line.

    The BLAS/OpenMP thread pools are limited to the rule's ``threads:`` (threadpoolctl) and
    scripts pass ``smk.threads`` to the calls that take a count. A :class:`CoworkingGeoError` is logged (to the rule's log and to stderr)
    without a traceback and the script exits with status 1. Any other exception
    is logged with its traceback before it propagates, so the rule's log never
    stays empty when the rule fails.
    """
    setup_snakemake_logging(smk)
    logger = logging.getLogger(f"coworking_geo.rule.{getattr(smk, 'rule', 'script')}")
    threads = int(getattr(smk, "threads", 0) or 0) or None
    limits = threadpool_limits(threads) if threads else contextlib.nullcontext()
    try:
        with limits:  # numpy/scipy BLAS and scikit-learn's OpenMP use the rule's threads, no more
            yield logger
        use = resource.getrusage(resource.RUSAGE_SELF)
        logger.info("done in %.2f CPU-s (this job's process, imports included)", use.ru_utime + use.ru_stime)
    except CoworkingGeoError as exc:
        logger.error("%s", exc)
        raise SystemExit(1) from None
    except Exception:
        logger.exception("the rule failed on an unexpected error (traceback below)")
        raise
