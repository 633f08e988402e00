"""coworking-geo: a reproducible diagnosis of coworking spaces and tiers-lieux in France."""

__version__ = "0.1.0"
