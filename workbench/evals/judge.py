"""Judge scorers through LiteLLM: rubric (G-Eval style), faithfulness, answer relevance.

Each takes an async `call(messages, params) -> CallResult` (the runner's cached, retried,
priced call for the judge model), so judge calls are cached and their cost is recorded apart
from the model's. Judge prompts are versioned (JUDGE_PROMPT_VERSION is stored with the run).

Rubric: the judge answers one digit 1-5. When the response carries logprobs, the score is
the probability-weighted mean over the digit alternatives of the score token (DeepEval's
G-Eval rule: the last generated token equal to the raw score; alternatives that are digits
of the scale with p >= 1%; renormalized). Without logprobs: the raw digit. The 1-5 score is
mapped to [0, 1] as (s - 1) / 4.
Faithfulness and relevance: the judge returns JSON {"score": 0..1, "reason": "..."}; a bare
number is accepted too.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Awaitable, Callable

from .suite import Case, ScorerSpec, case_question

JUDGE_PROMPT_VERSION = "judge-v1"

_SYSTEM = "You are a strict, impartial evaluation judge. Follow the output format exactly."

_RUBRIC = """TASK: rubric
Score the ANSWER against the CRITERIA on a scale of 1 (fails completely) to 5 (fully meets them).
Evaluation steps: read the QUESTION and the REFERENCE; check each criterion against the ANSWER;
penalize wrong or missing facts; ignore style unless the criteria mention it.
CRITERIA: {criteria}
QUESTION: {question}
REFERENCE: {reference}
ANSWER: {answer}
Reply with a single digit from 1 to 5 and nothing else."""

_FAITHFUL = """TASK: faithfulness
Decide which claims of the ANSWER are supported by the CONTEXTS. The score is the share of the
answer's claims that the contexts support (1 = every claim supported, 0 = none).
QUESTION: {question}
CONTEXTS: {contexts}
ANSWER: {answer}
Reply with JSON only: {{"score": <number between 0 and 1>, "reason": "<one sentence>"}}"""

_RELEVANCE = """TASK: relevance
Rate how directly the ANSWER addresses the QUESTION (1 = fully on point and complete,
0 = unrelated or evasive). Do not judge correctness.
QUESTION: {question}
ANSWER: {answer}
Reply with JSON only: {{"score": <number between 0 and 1>, "reason": "<one sentence>"}}"""


def judge_messages(spec: ScorerSpec, case: Case, output: str) -> list[dict] | None:
    """The judge prompt for this scorer and case, or None when it does not apply."""
    q = case_question(case)
    if spec.type == "rubric":
        ref = spec.value if spec.value is not None else case.expected
        ref = "" if ref is None else ref if isinstance(ref, str) else json.dumps(ref)
        user = _RUBRIC.format(criteria=spec.criteria, question=q, reference=ref or "(none)", answer=output)
    elif spec.type == "faithfulness":
        if not case.contexts:
            return None
        user = _FAITHFUL.format(question=q, contexts="\n".join(f"[{i}] {c}" for i, c in enumerate(case.contexts, 1)),
                                answer=output)
    elif spec.type == "answer_relevance":
        user = _RELEVANCE.format(question=q, answer=output)
    else:
        raise ValueError(f"{spec.type} is not a judge scorer")
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}]


def weighted_digit(content: str, logprobs: Any, lo: int = 1, hi: int = 5) -> tuple[float | None, str]:
    """(score on lo..hi, how) from the judge's text and, when present, its token logprobs."""
    m = re.search(rf"\b([{lo}-{hi}])\b", content or "")
    raw = int(m.group(1)) if m else None
    entries = _logprob_entries(logprobs)
    if raw is not None and entries:
        for entry in reversed(entries):
            if str(entry.get("token", "")).strip() == str(raw):
                probs: dict[int, float] = {}
                for alt in entry.get("top_logprobs") or []:
                    tok = str(alt.get("token", "")).strip()
                    if tok.isdigit() and lo <= int(tok) <= hi:
                        p = math.exp(float(alt.get("logprob", -1e9)))
                        if p >= 0.01:
                            probs[int(tok)] = probs.get(int(tok), 0.0) + p
                if probs:
                    return sum(s * p for s, p in probs.items()) / sum(probs.values()), "logprob_weighted"
                break
    if raw is None:
        return None, "unparsed"
    return float(raw), "raw"


def _logprob_entries(logprobs: Any) -> list[dict]:
    if not logprobs:
        return []
    content = logprobs.get("content") if isinstance(logprobs, dict) else getattr(logprobs, "content", None)
    out = []
    for e in content or []:
        if hasattr(e, "model_dump"):
            e = e.model_dump()
        if isinstance(e, dict):
            alts = [a.model_dump() if hasattr(a, "model_dump") else a for a in e.get("top_logprobs") or []]
            out.append({**e, "top_logprobs": alts})
    return out


def parse_fraction(content: str) -> tuple[float | None, str | None]:
    """{"score": x, "reason": ...} (or a bare number) -> (x clipped to [0, 1], reason)."""
    text = (content or "").strip()
    m = re.search(r"\{.*\}", text, re.S)
    if m:
        try:
            obj = json.loads(m.group(0))
            if isinstance(obj, dict) and isinstance(obj.get("score"), (int, float)):
                return min(max(float(obj["score"]), 0.0), 1.0), obj.get("reason")
        except ValueError:
            pass
    n = re.search(r"[-+]?\d*\.?\d+", text)
    if n:
        return min(max(float(n.group(0)), 0.0), 1.0), None
    return None, None


Call = Callable[[list[dict], dict], Awaitable[Any]]


async def judge_score(spec: ScorerSpec, case: Case, output: str, call: Call, *, logprobs: bool = True,
                      top_logprobs: int = 5) -> tuple[float | None, str | None, Any]:
    """(score in [0, 1] or None, detail, CallResult or None) for one judge scorer on one case."""
    messages = judge_messages(spec, case, output)
    if messages is None:
        return None, None, None
    params: dict = {"temperature": 0}
    if spec.type == "rubric":
        params["max_tokens"] = 5
        if logprobs:
            params.update(logprobs=True, top_logprobs=top_logprobs)
    res = await call(messages, params)
    if res.error:
        return None, f"judge error: {res.error}", res
    if spec.type == "rubric":
        s, how = weighted_digit(res.content, res.logprobs)
        if s is None:
            return None, f"judge reply not a digit 1-5: {res.content[:80]!r}", res
        return (s - 1) / 4, f"{s:.2f}/5 ({how})", res
    s, reason = parse_fraction(res.content)
    if s is None:
        return None, f"judge reply has no score: {res.content[:80]!r}", res
    return s, reason, res
