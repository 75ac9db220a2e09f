"""Small formatting helpers shared by the report sections and the explorers: escaping, money,
percentages, counts, multipliers; and a few database conveniences."""

from __future__ import annotations

import hashlib
import html
import math
import os
from pathlib import Path
from typing import Any, Iterable

# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------


def esc(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def usd(x: float | None, digits: int | None = None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if digits is None:
        digits = 0 if abs(x) >= 100 else 2
    return f"-${abs(x):,.{digits}f}" if x < 0 else f"${x:,.{digits}f}"


def pct(x: float | None, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x * 100:.{digits}f}%"


def num(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:,.0f}"


def mult(m: float) -> str:
    return f"{m:g}x"


def _nonempty(x) -> bool:
    return x not in (None, "", [], ())


def _paths(xs: str | os.PathLike | Iterable | None) -> list[str]:
    if not _nonempty(xs):
        return []
    if isinstance(xs, (str, os.PathLike)):
        xs = [xs]
    return [str(Path(x)) for x in xs if _nonempty(x)]


def sha256_file(path: str | os.PathLike) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def table_exists(con, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = 'main'", [name]
    ).fetchall()[0][0])


def records(con, sql: str, params=None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]
