"""The fast path for clean JSONL: read only the fields an adapter asks for with `read_json`.

The general path frames a JSONL file line by line and parses every line with
`json_extract_string`, so that a malformed line becomes one quarantined record and every
quarantined record keeps its text. That costs a string per line and a parse per line.
Most large exports are clean, and for them DuckDB's own JSON reader, told the exact
(nested) columns to read, is several times faster: it parses in place and skips every
field nobody asked for.

`extract()` (adapters/base.py) registers the fields of each extraction it builds. For a
file read by such an adapter, `fast_select()` swaps each extraction for the same columns
read from the TEMP VIEW `json_fields` (a typed `read_json` of the file, see
`json_fields_sql()`), giving `line`, `raw` and `j` as NULL. The pipeline uses the result
only when it is complete: `read_json` raised nothing (no malformed line), and every row
validated and has its own id. Otherwise it throws the result away and takes the general
path, so the outcome never depends on which path ran.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .adapters.base import EXTRACTIONS, sql_str

# One step of a JSON path as the adapters write them: .key, ."quoted key" or [index].
_STEP = re.compile(r'\.(?P<key>[A-Za-z_][A-Za-z0-9_]*)|\."(?P<quoted>[^"]+)"|\[(?P<index>\d+)\]')


class Unsupported(ValueError):
    """A path this module cannot turn into read_json columns (the general path handles it)."""


@dataclass
class _Node:
    leaf: bool = False  # the value itself is wanted
    keys: dict[str, "_Node"] = field(default_factory=dict)
    items: "_Node | None" = None  # element type, for array indexes

    def as_json(self) -> bool:
        """Read as JSON text: wanted whole and also dug into, or both an object and an array."""
        return (self.leaf and (self.keys or self.items is not None)) or (bool(self.keys) and self.items is not None)

    def type_sql(self) -> str:
        if self.as_json():
            return "JSON"
        if self.keys:
            return "STRUCT(" + ", ".join(f"{_ident(k)} {n.type_sql()}" for k, n in self.keys.items()) + ")"
        if self.items is not None:
            return self.items.type_sql() + "[]"
        return "VARCHAR"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def parse_path(path: str) -> list[str | int]:
    """'$.a."b.c"[0]' -> ['a', 'b.c', 0]."""
    if not path.startswith("$"):
        raise Unsupported(path)
    steps: list[str | int] = []
    pos = 1
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None:
            raise Unsupported(path)
        if m["index"] is not None:
            steps.append(int(m["index"]))
        else:
            steps.append(m["key"] if m["key"] is not None else m["quoted"])
        pos = m.end()
    if not steps or not isinstance(steps[0], str):
        raise Unsupported(path)  # the record itself, or a record that is an array
    return steps


def _rest(steps: list[str | int]) -> str:
    out = "$"
    for s in steps:
        out += f"[{s}]" if isinstance(s, int) else "." + _ident(s)
    return out


class FieldSet:
    """The union of the paths of several extractions, as one typed record."""

    def __init__(self) -> None:
        self.root = _Node()

    def add(self, path: str) -> None:
        node = self.root
        for step in parse_path(path):
            if isinstance(step, int):
                node.items = node.items or _Node()
                node = node.items
            else:
                node = node.keys.setdefault(step, _Node())
        node.leaf = True

    def columns_sql(self) -> str:
        return "{" + ", ".join(f"{sql_str(k)}: {sql_str(n.type_sql())}" for k, n in self.root.keys.items()) + "}"

    def value_sql(self, path: str) -> tuple[str, str | None]:
        """How to get `json_extract_string(record, path)` from a row of `json_fields`: an
        expression, and None; or, below a field read as JSON text, that field's expression
        and the rest of the path (to extract in one call with its siblings)."""
        steps = parse_path(path)
        node, expr = self.root, ""
        for i, step in enumerate(steps):
            if node.as_json():
                return expr, _rest(steps[i:])
            if isinstance(step, int):
                node, expr = node.items, f"{expr}[{step + 1}]"
            else:
                node = node.keys[step]
                expr = _ident(step) if not expr else f"struct_extract({expr}, {sql_str(step)})"
        return (expr, "$") if node.as_json() else (expr, None)

    def select_sql(self, fields: dict[str, str]) -> str:
        """SELECT line, raw, j (NULL) and the fields, from `json_fields`: what extract() gives."""
        inner, outer = [], {}
        nested: dict[str, list[tuple[str, str]]] = {}  # JSON field expression -> [(name, rest of path)]
        for name, path in fields.items():
            expr, rest = self.value_sql(path)
            if rest is None:
                inner.append(f"{expr} AS {name}")
                outer[name] = name
            else:
                nested.setdefault(expr, []).append((name, rest))
        for k, (expr, items) in enumerate(nested.items()):
            # One parse of the field's JSON text for all the paths below it.
            paths = ", ".join(sql_str(rest) for _, rest in items)
            inner.append(f"json_extract_string({expr}, [{paths}]) AS _n{k}")
            outer.update({name: f"_n{k}[{i}] AS {name}" for i, (name, _) in enumerate(items, 1)})
        cols = ", ".join(outer[name] for name in fields)  # in the order extract() gives them
        return (
            f"SELECT NULL::BIGINT AS line, NULL::VARCHAR AS raw, NULL::JSON AS j, {cols} "
            f"FROM (SELECT {', '.join(inner)} FROM json_fields)"
        )


def fast_select(adapter_sql: str) -> tuple[str, FieldSet] | None:
    """The adapter SQL with each registered extraction reading `json_fields`, or None when the
    SQL holds no extraction or a path the fast path cannot express."""
    found = [(sql, fields) for sql, fields in EXTRACTIONS.items() if sql in adapter_sql]
    if not found:
        return None
    fs = FieldSet()
    try:
        for _, fields in found:
            for path in fields.values():
                fs.add(path)
    except Unsupported:
        return None
    out = adapter_sql
    for sql, fields in found:
        out = out.replace(sql, fs.select_sql(fields))
    if re.search(r"\brecords\b", out):
        return None  # the adapter reads records beyond its extractions
    return out, fs


def json_fields_sql(path_literal: str, fields: FieldSet) -> str:
    """The TEMP VIEW body: every record of the file, only the wanted fields, typed."""
    return (
        f"SELECT * FROM read_json({path_literal}, format = 'newline_delimited', columns = {fields.columns_sql()}, "
        "maximum_object_size = 33554432, compression = 'auto')"
    )
