"""The register of coworking spaces and tiers-lieux: reading, repairing, locating, de-duplicating.

See docs/spaces.md for the rules and thresholds, and docs/contract.md for the
columns of ``spaces.parquet`` and ``programmes.parquet``.
"""
