"""Names of indicator columns that later stages read (kept here so the atlas, the profiles and the report
do not import the access computation, with rasterio and scipy, for a column name)."""

from __future__ import annotations

#: the APL-style two-step floating catchment score of a commune (places per 10,000 inhabitants)
SCORE_COL = "access_2sfca_per_10k"
