"""Deterministic scorers: each returns a score in [0, 1], or None when it does not apply
(no expected value, no ids). Judge scorers live in judge.py.

`expected` may be a list: string matchers then take the best match (any of the references).
"""

from __future__ import annotations

import json
import math
import re
import string
from collections import Counter
from typing import Any

from .refusal import is_refusal, normalize_typography  # noqa: F401 - part of this module's API
from .suite import Case, ScorerSpec

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


def normalize(text: str) -> str:
    """SQuAD / OpenAI Evals normalization: lowercase, drop punctuation and articles, collapse spaces."""
    text = str(text).lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def tokens(text: str) -> list[str]:
    return normalize(text).split()


def _refs(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def exact(output: str, expected) -> float | None:
    refs = _refs(expected)
    return max(float(output.strip() == str(r).strip()) for r in refs) if refs else None


def normalized_match(output: str, expected) -> float | None:
    refs = _refs(expected)
    return max(float(normalize(output) == normalize(r)) for r in refs) if refs else None


def contains(output: str, expected, ignore_case: bool = False) -> float | None:
    refs = _refs(expected)
    if not refs:
        return None
    hay = output.lower() if ignore_case else output
    return max(float((str(r).lower() if ignore_case else str(r)) in hay) for r in refs)


def regex(output: str, pattern: str) -> float:
    return float(re.search(pattern, output) is not None)


MAX_JSON_DEPTH = 64


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _depth(text: str) -> int:
    """Deepest nesting of [ and { outside strings (a cheap scan before json.loads)."""
    depth = deepest = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def parse_json(output: str, max_depth: int = MAX_JSON_DEPTH):
    """The JSON value in the output; a ```json (or ```JSON) fenced block is unwrapped. Strict JSON:
    NaN and Infinity are rejected, nesting is capped at `max_depth`. Raises ValueError."""
    text = output.strip()
    m = re.match(r"^```[ \t]*(?:json[c5]?)?[ \t]*\r?\n?(.*?)\s*```$", text, re.S | re.I)
    if m:
        text = m.group(1)
    if _depth(text) > max_depth:
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:  # pragma: no cover - the depth scan comes first
        raise ValueError(f"JSON nested deeper than {max_depth} levels") from None


def json_valid(output: str) -> float:
    try:
        parse_json(output)
        return 1.0
    except ValueError:
        return 0.0


def json_schema(output: str, schema: dict) -> tuple[float, str | None]:
    try:
        value = parse_json(output)
    except ValueError as exc:
        return 0.0, f"not JSON: {exc}"
    import jsonschema

    errors = sorted(jsonschema.validators.validator_for(schema)(schema).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.path) or "(root)"
        return 0.0, f"{where}: {e.message}"
    return 1.0, None


# A number: an optional sign (-, +, U+2212 minus) that is not a hyphen inside a word ("ABC-12" is 12),
# an optional currency sign, digits with optional thousands commas (1,332), an optional decimal part,
# a leading-dot decimal (.5) and an optional exponent. A number glued to a letter ("v2") is not one.
_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-+\u2212\ufe63\uff0d])?[$\u20ac\u00a3\u00a5\u20b9]?"
    r"(?P<num>(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|\.\d+)(?P<exp>[eE][-+]?\d+)?")
NUMBER_PICKS = ("last", "first", "nearest")


def numbers(text) -> list[float]:
    """Every number in the text, in order (see _NUMBER for what counts)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return [float(text)] if math.isfinite(float(text)) else []
    out = []
    for m in _NUMBER.finditer(str(text)):
        v = float(m.group("num").replace(",", "") + (m.group("exp") or ""))
        if m.group("sign") and m.group("sign") != "+":
            v = -v
        if math.isfinite(v):
            out.append(v)
    return out


def first_number(text) -> float | None:
    got = numbers(text)
    return got[0] if got else None


def pick_number(text, pick: str = "last", near: list[float] | None = None) -> tuple[float | None, str]:
    """(the number taken from text, how): the first, the last, or the one nearest a reference."""
    got = numbers(text)
    if not got:
        return None, "no number in the output"
    if pick == "first":
        v = got[0]
    elif pick == "nearest" and near:
        v = min(got, key=lambda x: min(abs(x - r) for r in near))
    else:
        v = got[-1]
    shown = ", ".join(f"{x:g}" for x in got[:8]) + (", ..." if len(got) > 8 else "")
    return v, f"took {v:g} ({pick} of {len(got)}: {shown})" if len(got) > 1 else f"took {v:g}"


def numeric_detail(output: str, expected, tolerance: float = 0.0, relative: bool = False,
                   pick: str = "last") -> tuple[float | None, str | None]:
    """(score, which number was taken). The reference's number is its first (a bare number usually)."""
    refs = [first_number(r) for r in _refs(expected)]
    refs = [r for r in refs if r is not None]
    if not refs:
        return None, None
    got, how = pick_number(output, pick, refs)
    if got is None:
        return 0.0, how
    best = 0.0
    for r in refs:
        allowed = tolerance * abs(r) if relative else tolerance
        best = max(best, float(abs(got - r) <= allowed + 1e-12 * max(1.0, abs(r))))
    return best, how


def numeric(output: str, expected, tolerance: float = 0.0, relative: bool = False, pick: str = "last") -> float | None:
    return numeric_detail(output, expected, tolerance, relative, pick)[0]


def token_f1(output: str, expected) -> float | None:
    """SQuAD token F1 (multiset overlap after normalization), best over references."""
    refs = _refs(expected)
    if not refs:
        return None
    pred = tokens(output)
    best = 0.0
    for r in refs:
        gold = tokens(str(r))
        if not pred and not gold:
            best = max(best, 1.0)
            continue
        common = sum((Counter(pred) & Counter(gold)).values())
        if common == 0:
            continue
        p, rc = common / len(pred), common / len(gold)
        best = max(best, 2 * p * rc / (p + rc))
    return best


def _lcs(a: list[str], b: list[str]) -> int:
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l(output: str, expected) -> float | None:
    """ROUGE-L F1 (beta = 1) on normalized tokens, best over references."""
    refs = _refs(expected)
    if not refs:
        return None
    pred = tokens(output)
    best = 0.0
    for r in refs:
        gold = tokens(str(r))
        lcs = _lcs(pred, gold)
        if lcs:
            p, rc = lcs / len(pred), lcs / len(gold)
            best = max(best, 2 * p * rc / (p + rc))
    return best


def refusal(output: str, expect: bool) -> float:
    """1 when the output refuses exactly when it should."""
    return float(is_refusal(output) == expect)


# -- retrieval (from ids) ---------------------------------------------------------------------
# Repeated ids follow trec_eval: a document counts at its first occurrence only; later copies are
# dropped before the cut at k (so they neither add hits nor take rank positions). Relevant ids are
# a set. precision@k divides by k even when fewer ids were retrieved (trec_eval's P_k).


def dedupe(ids: list[str]) -> list[str]:
    seen: set[str] = set()
    return [x for x in ids if not (x in seen or seen.add(x))]


def _top(retrieved: list[str], k: int | None) -> list[str]:
    ranked = dedupe(retrieved)
    return ranked[:k] if k else ranked


def recall_at_k(retrieved: list[str], relevant: list[str], k: int | None = None) -> float | None:
    rel = set(relevant)
    if not rel:
        return None
    return len(rel & set(_top(retrieved, k))) / len(rel)


def precision_at_k(retrieved: list[str], relevant: list[str], k: int | None = None) -> float | None:
    rel = set(relevant)
    top = _top(retrieved, k)
    if not top:
        return 0.0 if rel else None
    return sum(1 for r in top if r in rel) / (k if k else len(top))


def mrr(retrieved: list[str], relevant: list[str], k: int | None = None) -> float | None:
    rel = set(relevant)
    if not rel:
        return None
    for i, r in enumerate(_top(retrieved, k), 1):
        if r in rel:
            return 1 / i
    return 0.0


def ndcg(retrieved: list[str], relevant: list[str], k: int | None = None) -> float | None:
    """Binary-relevance nDCG@k: DCG = sum 1/log2(rank+1) over relevant hits; IDCG of the ideal order."""
    rel = set(relevant)
    if not rel:
        return None
    dcg = sum(1 / math.log2(i + 1) for i, r in enumerate(_top(retrieved, k), 1) if r in rel)
    ideal = sum(1 / math.log2(i + 1) for i in range(1, min(len(rel), k or len(rel)) + 1))
    return dcg / ideal


_RETRIEVAL = {"recall_at_k": recall_at_k, "precision_at_k": precision_at_k, "mrr": mrr, "ndcg": ndcg}


def _retrieved_from(case: Case, output: str) -> list[str] | None:
    if case.retrieved_ids is not None:
        return case.retrieved_ids
    try:
        value = parse_json(output)
    except ValueError:
        return None
    if isinstance(value, dict) and isinstance(value.get("retrieved_ids"), list):
        return [str(x) for x in value["retrieved_ids"]]
    return None


def _field(output: str, name: str | None) -> str:
    if not name:
        return output
    try:
        value = parse_json(output)
    except ValueError:
        return ""
    got = value.get(name) if isinstance(value, dict) else None
    return "" if got is None else got if isinstance(got, str) else json.dumps(got)


def python_score(fn, case: Case, output: str) -> tuple[float | None, str | None]:
    """Call a custom scorer fn(case, output); it returns a number or bool, (score, reason), a dict
    {"score": ..., "reason": ...} or None (not applicable). Scores are clipped to [0, 1]."""
    got = fn(case, output)
    reason = None
    if isinstance(got, dict):
        got, reason = got.get("score"), got.get("reason")
    elif isinstance(got, tuple) and len(got) == 2:
        got, reason = got
    if got is None:
        return None, reason
    if isinstance(got, bool):
        got = float(got)
    if not isinstance(got, (int, float)) or not math.isfinite(float(got)):
        raise TypeError(f"a python scorer returns a number in [0, 1], a bool or None; got {got!r}")
    return min(max(float(got), 0.0), 1.0), None if reason is None else str(reason)


def _not(value: float | None) -> float | None:
    return None if value is None else 1.0 - value


def _limit(value, limit: float, unit: str, fmt: str) -> tuple[float | None, str | None]:
    if value is None:
        return None, f"no {unit} recorded"
    return float(value <= limit), f"{value:{fmt}} {unit} (max {limit:{fmt}})"


def score(spec: ScorerSpec, case: Case, output: str, schemas: dict[str, dict] | None = None, *, call=None,
          functions: dict | None = None) -> tuple[float | None, str | None]:
    """(score in [0, 1] or None when not applicable, detail) for a deterministic scorer.
    `call` (the model call: latency_ms, cost_usd) feeds latency and cost; `functions` the python scorers."""
    text = _field(output or "", spec.field)
    expected: Any = spec.value if spec.value is not None else case.expected
    t = spec.type
    if t == "not_contains":
        return _not(contains(text, spec.value)), None
    if t == "not_icontains":
        return _not(contains(text, spec.value, ignore_case=True)), None
    if t == "not_regex":
        return 1.0 - regex(text, spec.pattern), None
    if t == "latency":
        return _limit(getattr(call, "latency_ms", None), spec.max_ms, "ms", ".0f")
    if t == "cost":
        return _limit(getattr(call, "cost_usd", None), spec.max_usd, "USD", ".6f")
    if t == "python":
        return python_score((functions or {})[spec.key], case, text)
    if t == "exact":
        return exact(text, expected), None
    if t == "normalized":
        return normalized_match(text, expected), None
    if t == "contains":
        return contains(text, expected), None
    if t == "icontains":
        return contains(text, expected, ignore_case=True), None
    if t == "regex":
        pattern = spec.pattern or (expected if isinstance(expected, str) else None)
        return (regex(text, pattern), None) if pattern else (None, None)
    if t == "json_valid":
        return json_valid(text), None
    if t == "json_schema":
        return json_schema(text, (schemas or {})[spec.key])
    if t == "numeric":
        return numeric_detail(text, expected, spec.tolerance, spec.relative, spec.pick)
    if t == "token_f1":
        return token_f1(text, expected), None
    if t == "rouge_l":
        return rouge_l(text, expected), None
    if t == "refusal":
        expect = spec.expect if spec.expect is not None else ("refusal" in case.tags)
        return refusal(text, expect), ("refused" if is_refusal(text) else "answered")
    if t in _RETRIEVAL:
        retrieved = _retrieved_from(case, output or "")
        if retrieved is None or case.relevant_ids is None:
            return None, None
        return _RETRIEVAL[t](retrieved, case.relevant_ids, spec.k), None
    raise ValueError(f"{t} is not a deterministic scorer")
