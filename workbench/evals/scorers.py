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


def parse_json(output: str):
    """The JSON value in the output; a ```json fenced block is unwrapped. Raises ValueError."""
    text = output.strip()
    m = re.match(r"^```(?:json)?\s*(.*?)\s*```$", text, re.S)
    if m:
        text = m.group(1)
    return json.loads(text)


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


_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")


def first_number(text) -> float | None:
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    m = _NUMBER.search(str(text))
    return float(m.group(0).replace(",", "")) if m else None


def numeric(output: str, expected, tolerance: float = 0.0, relative: bool = False) -> float | None:
    refs = [first_number(r) for r in _refs(expected)]
    refs = [r for r in refs if r is not None]
    if not refs:
        return None
    got = first_number(output)
    if got is None:
        return 0.0
    best = 0.0
    for r in refs:
        allowed = tolerance * abs(r) if relative else tolerance
        best = max(best, float(abs(got - r) <= allowed + 1e-12))
    return best


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


_REFUSAL = re.compile(
    r"\b(i(?:'m| am) (?:sorry|afraid|unable|not able)|i can(?:'|no)t (?:help|assist|answer|provide|share|do)|"
    r"i (?:cannot|won't|will not|must decline)|(?:unable|not able) to (?:help|assist|answer|provide)|"
    r"as an ai\b|i don't have (?:access|information)|(?:that's|this is) (?:outside|beyond) (?:my|the) scope|"
    r"please contact (?:support|a human|an agent))",
    re.I,
)


def is_refusal(output: str) -> bool:
    return bool(_REFUSAL.search(output or ""))


def refusal(output: str, expect: bool) -> float:
    """1 when the output refuses exactly when it should."""
    return float(is_refusal(output) == expect)


# -- retrieval (from ids) ---------------------------------------------------------------------


def recall_at_k(retrieved: list[str], relevant: list[str], k: int | None = None) -> float | None:
    rel = set(relevant)
    if not rel:
        return None
    top = retrieved[:k] if k else retrieved
    return len(rel & set(top)) / len(rel)


def precision_at_k(retrieved: list[str], relevant: list[str], k: int | None = None) -> float | None:
    rel = set(relevant)
    top = retrieved[:k] if k else retrieved
    if not top:
        return 0.0 if rel else None
    return sum(1 for r in top if r in rel) / (k if k else len(top))


def mrr(retrieved: list[str], relevant: list[str], k: int | None = None) -> float | None:
    rel = set(relevant)
    if not rel:
        return None
    for i, r in enumerate(retrieved[:k] if k else retrieved, 1):
        if r in rel:
            return 1 / i
    return 0.0


def ndcg(retrieved: list[str], relevant: list[str], k: int | None = None) -> float | None:
    """Binary-relevance nDCG@k: DCG = sum 1/log2(rank+1) over relevant hits; IDCG of the ideal order."""
    rel = set(relevant)
    if not rel:
        return None
    top = retrieved[:k] if k else retrieved
    seen: set[str] = set()
    dcg = 0.0
    for i, r in enumerate(top, 1):
        if r in rel and r not in seen:
            dcg += 1 / math.log2(i + 1)
            seen.add(r)
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


def score(spec: ScorerSpec, case: Case, output: str, schemas: dict[str, dict] | None = None) -> tuple[float | None, str | None]:
    """(score in [0, 1] or None when not applicable, detail) for a deterministic scorer."""
    text = _field(output or "", spec.field)
    expected: Any = spec.value if spec.value is not None else case.expected
    t = spec.type
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
        return numeric(text, expected, spec.tolerance, spec.relative), None
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
