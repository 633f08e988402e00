"""Compare the processed tables of two builds, row by row.

    python benchmarks/compare_processed.py BEFORE/data/processed/france AFTER/data/processed/france
    python benchmarks/compare_processed.py A B --rtol 1e-12      # floats equal to 1e-12 (relative)

Every ``*.parquet`` under the first folder (sub-folders included, e.g. ``regions/``) must exist
under the second with the same columns, dtypes, row count and order. Values are compared
exactly (NaN equals NaN; geometries by their WKB); with ``--rtol`` floating columns may differ
by that relative amount and the largest difference is printed. Files only in the second folder
are listed. Exit status 1 when a table differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq


def _column_diff(a: pd.Series, b: pd.Series, rtol: float) -> str | None:
    """None when the columns are equal (floats within ``rtol``), else a short description."""
    if str(a.dtype) != str(b.dtype):
        return f"dtype {a.dtype} != {b.dtype}"
    if pd.api.types.is_float_dtype(a.dtype):
        x, y = a.to_numpy(float, na_value=np.nan), b.to_numpy(float, na_value=np.nan)
        both_nan = np.isnan(x) & np.isnan(y)
        exact = (x == y) | both_nan
        if exact.all():
            return None
        scale = np.maximum(np.abs(x), np.abs(y))
        rel = np.where(exact, 0.0, np.abs(x - y) / np.where(scale > 0, scale, 1.0))
        rel = np.nan_to_num(rel, nan=np.inf)
        worst = float(rel.max())
        msg = f"{int((~exact).sum())} values differ, max relative difference {worst:.3g}"
        return None if worst <= rtol else msg
    if isinstance(a.iloc[0] if len(a) else None, bytes) or a.dtype == object:
        xs, ys = a.to_numpy(object), b.to_numpy(object)
        bad = [i for i, (u, v) in enumerate(zip(xs, ys, strict=True))
               if not ((u is None or u is pd.NA or (isinstance(u, float) and np.isnan(u)))
                       and (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))))
               and not _equal(u, v)]
        return f"{len(bad)} values differ (first at row {bad[0]})" if bad else None
    eq = a.eq(b) | (a.isna() & b.isna())
    eq = eq.fillna(False).to_numpy(bool)
    return None if eq.all() else f"{int((~eq).sum())} values differ (first at row {int(np.argmin(eq))})"


def _equal(u: object, v: object) -> bool:
    if isinstance(u, np.ndarray) or isinstance(v, np.ndarray):
        return bool(np.array_equal(np.asarray(u, dtype=object), np.asarray(v, dtype=object)))
    try:
        return bool(u == v)
    except (TypeError, ValueError):
        return repr(u) == repr(v)


def compare_tables(before: Path, after: Path, rtol: float = 0.0) -> list[str]:
    """Differences between two parquet files read as plain tables (geometry kept as WKB bytes)."""
    a, b = pq.read_table(before).to_pandas(), pq.read_table(after).to_pandas()
    if list(a.columns) != list(b.columns):
        return [f"columns differ: only before {sorted(set(a.columns) - set(b.columns))}, "
                f"only after {sorted(set(b.columns) - set(a.columns))}"]
    if len(a) != len(b):
        return [f"{len(a)} rows before, {len(b)} after"]
    if not a.index.equals(b.index):
        return ["index differs"]
    out = []
    for col in a.columns:
        msg = _column_diff(a[col], b[col], rtol)
        if msg:
            out.append(f"{col}: {msg}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rtol", type=float, default=0.0, help="relative tolerance for floating columns")
    args = parser.parse_args()
    failed = 0
    files = sorted(p.relative_to(args.before) for p in args.before.rglob("*.parquet"))
    if not files:
        raise SystemExit(f"no parquet file under {args.before}")
    for rel in files:
        other = args.after / rel
        if not other.exists():
            print(f"MISSING {rel}")
            failed += 1
            continue
        diffs = compare_tables(args.before / rel, other, args.rtol)
        rows = pq.ParquetFile(args.before / rel).metadata.num_rows
        print(f"{'EQUAL  ' if not diffs else 'DIFFER '} {rel} ({rows} rows)")
        for d in diffs:
            print(f"    {d}")
        failed += bool(diffs)
    extra = sorted(p.relative_to(args.after) for p in args.after.rglob("*.parquet")
                   if not (args.before / p.relative_to(args.after)).exists())
    for rel in extra:
        print(f"ONLY AFTER {rel}")
    print(f"{len(files) - failed} of {len(files)} tables equal" + (f" (floats to rtol {args.rtol:g})" if args.rtol else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
