"""Deterministic scorers and judge parsing on hand-made cases (no model, no network)."""

from __future__ import annotations

import math

import pytest

from workbench.evals import scorers as S
from workbench.evals.judge import judge_messages, parse_fraction, weighted_digit
from workbench.evals.suite import Case, ScorerSpec


def case(**kw):
    kw.setdefault("id", "c1")
    kw.setdefault("input", "q")
    return Case(**kw)


def test_exact_and_normalized():
    assert S.exact(" Paris ", "Paris") == 1.0
    assert S.exact("paris", "Paris") == 0.0
    assert S.normalized_match("The  Paris!", "paris") == 1.0
    assert S.normalized_match("Lyon", ["Paris", "lyon."]) == 1.0
    assert S.exact("x", None) is None


def test_contains_and_icontains():
    assert S.contains("Go to Billing > Plan", "Billing > Plan") == 1.0
    assert S.contains("go to billing > plan", "Billing > Plan") == 0.0
    assert S.contains("go to billing > plan", "Billing > Plan", ignore_case=True) == 1.0
    assert S.contains("abc", ["x", "b"]) == 1.0


def test_regex_and_json():
    assert S.regex("order #12345 shipped", r"#\d{5}\b") == 1.0
    assert S.regex("order 1234", r"#\d{5}") == 0.0
    assert S.json_valid('{"a": 1}') == 1.0
    assert S.json_valid('```json\n{"a": 1}\n```') == 1.0
    assert S.json_valid("{a: 1}") == 0.0
    schema = {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "string"}}}
    assert S.json_schema('{"answer": "yes"}', schema) == (1.0, None)
    s, why = S.json_schema('{"answer": 3}', schema)
    assert s == 0.0 and "answer" in why
    s, why = S.json_schema("nope", schema)
    assert s == 0.0 and why.startswith("not JSON")


def test_numeric_tolerance():
    assert S.numeric("It costs $1,200.50 a year", 1200.5) == 1.0
    assert S.numeric("about 101", 100, tolerance=1) == 1.0
    assert S.numeric("about 102", 100, tolerance=1) == 0.0
    assert S.numeric("about 104", 100, tolerance=0.05, relative=True) == 1.0
    assert S.numeric("no number here", 100) == 0.0
    assert S.numeric("7", "seven") is None  # no number in the reference: not applicable


def test_token_f1_by_hand():
    # normalized: pred [cat, sat, on, mat], gold [cat, sat]: P = 2/4, R = 1, F1 = 2/3
    assert S.token_f1("The cat sat on the mat.", "cat sat") == pytest.approx(2 / 3)
    assert S.token_f1("dog", "cat") == 0.0
    assert S.token_f1("cat", ["dog", "cat"]) == 1.0


def test_rouge_l_by_hand():
    # LCS(x y z w, x z w v) = x z w (3): P = R = 3/4
    assert S.rouge_l("x y z w", "x z w v") == pytest.approx(0.75)
    assert S.rouge_l("x", "y") == 0.0


def test_refusal_detection():
    assert S.is_refusal("I'm sorry, I can't help with that.")
    assert S.is_refusal("I cannot provide personal addresses.")
    assert not S.is_refusal("Refunds are available within 30 days.")
    assert S.refusal("I am unable to assist with that", expect=True) == 1.0
    assert S.refusal("Sure: 30 days", expect=True) == 0.0


def test_retrieval_metrics_by_hand():
    got, rel = ["d1", "d2", "d3", "d4"], ["d2", "d4", "d9"]
    assert S.recall_at_k(got, rel, 3) == pytest.approx(1 / 3)
    assert S.recall_at_k(got, rel, 4) == pytest.approx(2 / 3)
    assert S.precision_at_k(got, rel, 2) == pytest.approx(1 / 2)
    assert S.precision_at_k(got, rel) == pytest.approx(2 / 4)
    assert S.mrr(got, rel) == pytest.approx(1 / 2)
    assert S.mrr(["x"], rel) == 0.0
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert S.ndcg(got, rel, 4) == pytest.approx(dcg / idcg)
    assert S.ndcg(["d2", "d4", "d9"], rel) == pytest.approx(1.0)
    assert S.recall_at_k(got, []) is None


def test_score_dispatch_applicability_and_params():
    c = case(expected="30 days", tags=["billing"])
    assert S.score(ScorerSpec(type="icontains"), c, "Within 30 DAYS") == (1.0, None)
    assert S.score(ScorerSpec(type="icontains"), case(expected=None), "x")[0] is None
    assert S.score(ScorerSpec(type="icontains", value="refund"), c, "a refund")[0] == 1.0
    assert S.score(ScorerSpec(type="exact", field="answer"), case(expected="yes"), '{"answer": "yes"}')[0] == 1.0
    # refusal expectation from the `refusal` tag
    assert S.score(ScorerSpec(type="refusal"), case(tags=["refusal"]), "I'm sorry, I can't help")[0] == 1.0
    assert S.score(ScorerSpec(type="refusal"), case(), "I'm sorry, I can't help")[0] == 0.0
    # retrieval ids from the golden set, else from a JSON answer
    r = case(retrieved_ids=["a", "b"], relevant_ids=["b"])
    assert S.score(ScorerSpec(type="mrr"), r, "")[0] == 0.5
    assert S.score(ScorerSpec(type="mrr"), case(relevant_ids=["b"]), '{"retrieved_ids": ["b"]}')[0] == 1.0
    assert S.score(ScorerSpec(type="mrr"), case(), "x")[0] is None
    spec = ScorerSpec(type="icontains", tags=["billing"], skip_tags=["refusal"])
    assert spec.applies(c) and not spec.applies(case()) and not spec.applies(case(tags=["billing", "refusal"]))


def test_geval_weighting_from_logprobs():
    def lp(pairs, token="4"):
        return {"content": [{"token": token, "logprob": math.log(dict(pairs)[int(token)]),
                             "top_logprobs": [{"token": str(t), "logprob": math.log(p)} for t, p in pairs]}]}

    assert weighted_digit("4", lp([(4, 0.6), (3, 0.2), (5, 0.2)])) == (pytest.approx(4.0), "logprob_weighted")
    assert weighted_digit("4", lp([(4, 0.5), (5, 0.5)]))[0] == pytest.approx(4.5)
    # alternatives under 1% and non-digits are dropped, the rest renormalized
    got = weighted_digit("4", {"content": [{"token": "4", "logprob": math.log(0.75), "top_logprobs": [
        {"token": "4", "logprob": math.log(0.75)}, {"token": "2", "logprob": math.log(0.25)},
        {"token": "1", "logprob": math.log(0.001)}, {"token": "x", "logprob": math.log(0.2)}]}]})
    assert got[0] == pytest.approx(0.75 * 4 + 0.25 * 2)
    assert weighted_digit("Score: 3", None) == (3.0, "raw")
    assert weighted_digit("great", None) == (None, "unparsed")


def test_judge_fraction_parsing_and_prompts():
    assert parse_fraction('{"score": 0.8, "reason": "ok"}') == (0.8, "ok")
    assert parse_fraction('Sure! ```{"score": 1.7}```')[0] == 1.0
    assert parse_fraction("0.25")[0] == 0.25
    assert parse_fraction("no idea") == (None, None)
    c = case(expected="30 days", contexts=["Refunds within 30 days."])
    msgs = judge_messages(ScorerSpec(type="faithfulness"), c, "30 days")
    assert "CONTEXTS: [1] Refunds within 30 days." in msgs[1]["content"]
    assert judge_messages(ScorerSpec(type="faithfulness"), case(), "x") is None  # no contexts: n/a
    assert "REFERENCE: 30 days" in judge_messages(ScorerSpec(type="rubric", criteria="c"), c, "x")[1]["content"]
