"""Personal data in free text: e-mail addresses, French phone numbers, URLs carrying personal tokens.

Columns named like contact fields are dropped by :func:`coworking_geo.spaces.readers.drop_personal`;
this module removes the same kinds of data written *inside* other text fields (a
name, an address, a comment), right after reading. Each scrubbed field is
recorded as ``column:kind`` so that ``spaces_fixes.csv`` can count them.
"""

from __future__ import annotations

import re

import pandas as pd

#: an e-mail address (also after "mailto:")
EMAIL_RE = re.compile(r"(?i)(?:mailto:)?[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
#: a French phone number: 0X XX XX XX XX (blank, dot or dash separators) or +33 / 0033 X XX XX XX XX, standing
#: alone (not inside a word, an identifier such as a map element's hex id, or a decimal number)
PHONE_RE = re.compile(r"(?<!\w)(?<!\d[.,])(?:(?:\+|00)33[\s.-]?(?:\(0\)[\s.-]?)?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\w|[.,]\d)")
#: a URL; its query string is dropped when one of its parameters names a personal token
URL_RE = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"']+")
TOKEN_PARAM_RE = re.compile(
    r"(?i)(?:^|[?&;])(?:token|access_token|auth|key|apikey|api_key|session|sessionid|sid|uid|user|userid|login|"
    r"email|e-mail|mail|tel|phone|password|pwd|pass|utm_[a-z]+|fbclid|gclid|mc_eid)=")
KINDS: tuple[str, ...] = ("email", "phone", "url_token")


def _strip_tokens(url: str) -> str:
    base, sep, query = url.partition("?")
    return base if sep and TOKEN_PARAM_RE.search("?" + query) else url


def scrub_text(text: str) -> tuple[str, list[str]]:
    """The text without e-mails, French phone numbers and personal URL tokens, and the kinds removed."""
    kinds = []
    out = text
    urls = URL_RE.findall(out)
    for u in urls:
        clean = _strip_tokens(u)
        if clean != u:
            out = out.replace(u, clean)
            if "url_token" not in kinds:
                kinds.append("url_token")
    out, n_mail = EMAIL_RE.subn("", out)
    if n_mail:
        kinds.append("email")
    out, n_phone = PHONE_RE.subn("", out)
    if n_phone:
        kinds.append("phone")
    if kinds:
        out = re.sub(r"\s{2,}", " ", out)
        out = re.sub(r"[\s:;,/=(\[-]+$", "", out).strip()
    return out, kinds


def contains_personal(text: str) -> bool:
    """True when the text holds an e-mail address or a French phone number (the check run on outputs)."""
    return bool(EMAIL_RE.search(text) or PHONE_RE.search(text))


def scrub_frame(df: pd.DataFrame, columns: list[str] | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """Scrub every text column (or ``columns``); returns the frame and, per row, the ';'-joined
    ``column:kind`` of the fields changed ('' when none)."""
    df = df.copy()
    detail = pd.Series("", index=df.index, dtype="string")
    cols = columns if columns is not None else [
        c for c in df.columns if df[c].dtype == object or str(df[c].dtype).startswith(("str", "string"))]
    for c in cols:
        s = df[c].astype("string")
        # only the cells that could hold one of the patterns
        cand = s.str.contains(r"@|\d{2}|https?://|www\.", regex=True).fillna(False).astype(bool)
        if not cand.any():
            continue
        res = s[cand].map(scrub_text)
        changed = res.map(lambda r: bool(r[1]))
        if not changed.any():
            continue
        idx = changed[changed].index
        df[c] = df[c].astype("object")
        df.loc[idx, c] = res[idx].map(lambda r: r[0]).to_numpy()
        what = res[idx].map(lambda r, c=c: ";".join(f"{c}:{k}" for k in r[1])).astype("string")
        detail.loc[idx] = detail.loc[idx].where(detail.loc[idx].eq(""), detail.loc[idx] + ";") + what
    return df, detail
