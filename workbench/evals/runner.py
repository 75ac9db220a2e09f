"""The eval runner: golden cases through `litellm.acompletion`, scored, stored in DuckDB.

* Bounded concurrency (asyncio.Semaphore(suite.concurrency)) over cases; per-call timeout.
* Retries with exponential back-off (base_delay_s * 2**attempt, capped, with jitter) on rate
  limits (429), timeouts, connection and server (5xx) errors; other errors are final.
  The error is recorded on the case; the other cases carry on.
* Response cache (`eval_cache`): key = sha256(model, endpoint (api_base, api_version, headers
  other than credentials), messages, generation params, tools); credentials are not in the key,
  and the stored request shows the endpoint only as a hash. Empty answers and errors are never
  cached (an empty answer is an error of type empty_response, retried like a server error). A replay is marked `cached` and keeps its original
  usage and latency; it is not billed again (eval_runs.cost_usd excludes it and
  cost_avoided_usd counts it). `use_cache=False` forces calls (and refreshes the cache).
* Cost: the response's usage priced with the workbench price book (model name, or the
  suite's `price_as`); an unknown model's cost is NULL, never $0.
* Progress is persisted per case: a run that stops (killed, Ctrl-C, an exception) keeps
  status running/interrupted; the next run of the same suite (same suite hash) and model
  resumes it (same run id) and only runs the cases without a stored result.
litellm is imported on first use only (after LITELLM_LOCAL_MODEL_COST_MAP=True).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..config import resource
from ..errors import CheckFailed, WorkbenchError
from ..ingest.redact import redact_text
from . import judge as judge_mod
from . import scorers as scorer_mod
from .caller import Caller, CallResult, Pricer
from .repeats import combine, persist_epochs
from .gate import GateResult, compare, find_baseline, gate_json, mean_interval
from .suite import Case, LoadedSuite, ModelSpec, load_variants, render_messages


# Generation params that never change the answer (not part of the cache key).
@dataclass
class RunReport:
    run_id: str
    suite: str
    model: str
    prompt_version: str
    status: str
    n_cases: int
    n_errors: int
    n_cached: int
    n_run_now: int  # cases processed by this invocation (the rest came from a resumed run)
    resumed: bool
    mean_score: float | None
    ci_low: float | None
    ci_high: float | None
    pass_rate: float | None
    cost_usd: float | None
    cost_avoided_usd: float | None
    judge_cost_usd: float | None
    p95_latency_ms: float | None
    http_calls: int
    gate: GateResult | None = None
    errors: list[dict] = field(default_factory=list)  # per case: case_id, error_type, attempts, error

    @property
    def passed(self) -> bool:
        return self.gate.passed if self.gate else True

    def as_dict(self) -> dict:
        d = asdict(self)
        d["passed"] = self.passed
        return d

    def row(self) -> dict:
        g = self.gate
        return {
            "model": self.model, "prompt": self.prompt_version, "run_id": self.run_id, "cases": self.n_cases, "errors": self.n_errors,
            "cached": self.n_cached, "score": self.mean_score, "pass_rate": self.pass_rate,
            "cost_usd": self.cost_usd, "judge_cost_usd": self.judge_cost_usd, "p95_ms": self.p95_latency_ms,
            "baseline": g.baseline_run_id if g else None, "diff": g.diff if g else None,
            "ci": (g.ci_low, g.ci_high) if g and g.ci_low is not None else None,
            "gate": "pass" if self.passed else "FAIL",
        }

    def error_lines(self, limit: int = 20) -> list[str]:
        """One line per case without an answer: id, type, attempts, message."""
        out = [f"{e['case_id']}: {e['error_type'] or 'other'} after {e['attempts']} attempt(s): {e['error']}"
               for e in self.errors[:limit]]
        if len(self.errors) > limit:
            out.append(f"... and {len(self.errors) - limit} more (SELECT * FROM eval_results WHERE run_id = "
                       f"'{self.run_id}' AND error IS NOT NULL)")
        return out


@dataclass
class EvalReport:
    suite: str
    suite_path: str
    runs: list[RunReport] = field(default_factory=list)

    @property
    def gate_passed(self) -> bool:
        return all(r.passed for r in self.runs)

    def rows(self) -> list[dict]:
        return [r.row() for r in self.runs]

    def as_dict(self) -> dict:
        return {"suite": self.suite, "suite_path": self.suite_path, "gate_passed": self.gate_passed,
                "runs": [r.as_dict() for r in self.runs]}

    def verdict_lines(self) -> list[str]:
        """What `workbench eval` prints under its table: per run the verdict and why, each case
        without an answer, the small-sample warnings, failing slices and regressed cases."""
        out = []
        for r in self.runs:
            g = r.gate
            if g is None:
                continue
            what = r.model + (f" [{r.prompt_version}]" if len({x.prompt_version for x in self.runs}) > 1 else "")
            out.append(f"{what}: {'PASS' if r.passed else 'FAIL'} — {g.reason}")
            out += [f"  error: {line}" for line in r.error_lines()]
            out += [f"  warning: {w}" for w in g.warnings]
            out += [f"  failing slice: {sl}" for sl in g.failing_slices]
            out += [f"  regressed: {c['case_id']} {c['baseline']:.3f} -> {c['current']:.3f}" for c in g.regressed[:15]]
        return out

    def write_junit(self, con, path) -> None:
        from .junit import write_junit

        write_junit(con, self, path)

    def raise_for_gate(self) -> None:
        failed = [r for r in self.runs if not r.passed]
        if failed:
            raise CheckFailed("; ".join(f"{r.model} ({r.run_id}): {r.gate.reason}" for r in failed))


# ---------------------------------------------------------------------------------------------
# Running a suite
# ---------------------------------------------------------------------------------------------


def _git_sha(where: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=3)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _trigger(trigger: str) -> str:
    if trigger == "manual" and os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return "ci"
    return trigger


@dataclass
class _CaseOutcome:
    case: Case
    output: str | None
    call: CallResult
    scores: list[tuple[str, str, float | None, bool | None, float, float, str | None]]  # key,type,score,passed,thr,w,detail
    score: float | None
    passed: bool | None
    judge_in: int | None = None
    judge_out: int | None = None
    judge_cost: float | None = None
    judge_billed: float | None = None
    judge_cached: bool | None = None
    repeats: int = 1
    score_sd: float | None = None
    pass_share: float | None = None
    epochs: list | None = None


async def _evaluate_case(ls: LoadedSuite, case: Case, caller: Caller, judge: Caller | None,
                         epoch: int = 0) -> _CaseOutcome:
    call = await caller(render_messages(ls.prompt, case), epoch=epoch)
    if call.error:
        return _CaseOutcome(case, None, call, [], 0.0, False)
    output = call.content
    scores = []
    j_in = j_out = 0
    j_cost: float | None = 0.0
    j_billed: float | None = 0.0
    j_calls = j_cached = 0
    js = ls.suite.judge
    for spec in ls.suite.scorers:
        if not spec.applies(case):
            continue
        detail = None
        if spec.needs_judge:
            s, detail, res = await judge_mod.judge_score(spec, case, output, judge, logprobs=js.logprobs,
                                                         top_logprobs=js.top_logprobs)
            if res is not None and not res.error:
                j_calls += 1
                j_cached += bool(res.cached)
                j_in += res.input_tokens or 0
                j_out += res.output_tokens or 0
                j_cost = None if j_cost is None or res.cost_usd is None else j_cost + res.cost_usd
                if not res.cached:
                    j_billed = None if j_billed is None or res.cost_usd is None else j_billed + res.cost_usd
        else:
            try:
                s, detail = scorer_mod.score(spec, case, output, ls.schemas, call=call, functions=ls.functions)
            except Exception as exc:  # noqa: BLE001 - a scorer bug must not lose the case
                s, detail = 0.0, f"scorer error: {type(exc).__name__}: {exc}"
        passed = None if s is None else s >= spec.threshold - 1e-12
        scores.append((spec.key, spec.type, s, passed, spec.threshold, spec.weight, detail))
    applicable = [(s, w) for _, _, s, _, _, w, _ in scores if s is not None]
    wsum = sum(w for _, w in applicable)
    score = sum(s * w for s, w in applicable) / wsum if wsum > 0 else (
        sum(s for s, _ in applicable) / len(applicable) if applicable else None)
    verdicts = [p for _, _, _, p, _, _, _ in scores if p is not None]
    passed = all(verdicts) if verdicts else None
    out = _CaseOutcome(case, output, call, scores, score, passed)
    if j_calls:
        out.judge_in, out.judge_out, out.judge_cost = j_in, j_out, j_cost
        out.judge_billed, out.judge_cached = j_billed, j_cached == j_calls
    return out


def _persist(con, run_id: str, o: _CaseOutcome) -> None:
    c = o.call
    con.execute("DELETE FROM eval_scores WHERE run_id = ? AND case_id = ?", [run_id, o.case.id])
    con.execute("DELETE FROM eval_results WHERE run_id = ? AND case_id = ?", [run_id, o.case.id])
    con.execute(
        """INSERT INTO eval_results (run_id, case_id, tags, output, score, passed, scores, input_tokens,
               cache_read_tokens, output_tokens, reasoning_tokens, cost_usd, price_key, judge_input_tokens,
               judge_output_tokens, judge_cost_usd, judge_billed_usd, latency_ms, error, error_type, attempts,
               cached, judge_cached, repeats, score_sd, pass_share, finished_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())""",
        [run_id, o.case.id, o.case.tags, o.output, o.score, o.passed,
         json.dumps({k: s for k, _, s, *_ in o.scores}), c.input_tokens, c.cache_read_tokens, c.output_tokens,
         c.reasoning_tokens, c.cost_usd, c.price_key, o.judge_in, o.judge_out, o.judge_cost, o.judge_billed,
         c.latency_ms, c.error, c.error_type, c.attempts, c.cached, o.judge_cached, o.repeats, o.score_sd,
         o.pass_share],
    )
    if o.epochs:
        persist_epochs(con, run_id, o)
    if o.scores:
        con.executemany(
            "INSERT INTO eval_scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[run_id, o.case.id, k, t, s, p, thr, w, d] for k, t, s, p, thr, w, d in o.scores],
        )


def _make_progress(progress, total: int, done: int, label: str):
    """progress: None | True ('bar' on stderr) | callable(event dict)."""
    bar = None
    if progress is True or progress == "bar":
        try:
            from tqdm import tqdm

            bar = tqdm(total=total, initial=done, desc=label, file=sys.stderr, unit="case", leave=False)
        except ImportError:  # pragma: no cover
            bar = None

    def tick(event: dict):
        if bar is not None:
            bar.update(1)
        if callable(progress):
            progress(event)

    return tick, bar


async def _run_model(con, ls: LoadedSuite, spec: ModelSpec, *, run_id: str, done_ids: set[str], use_cache: bool,
                     backoff_base: float | None, progress, pricer: Pricer) -> tuple[int, int]:
    s = ls.suite
    caller = Caller(con, spec, base_params=s.params, timeout_s=s.timeout_s, retries=s.retries,
                    use_cache=use_cache, pricer=pricer, backoff_base=backoff_base)
    judge = None
    if s.judge and any(sc.needs_judge for sc in s.scorers):
        judge = Caller(con, s.judge, base_params={}, timeout_s=s.timeout_s, retries=s.retries,
                       use_cache=use_cache, pricer=pricer, backoff_base=backoff_base)
    pending = [c for c in ls.cases if c.id not in done_ids]
    sem = asyncio.Semaphore(s.concurrency)

    async def once(case: Case, epoch: int) -> _CaseOutcome:
        async with sem:
            return await _evaluate_case(ls, case, caller, judge, epoch)

    async def one(case: Case) -> _CaseOutcome:
        if s.repeat == 1:
            return await once(case, 0)
        return combine(list(await asyncio.gather(*(once(case, e) for e in range(s.repeat)))))

    tick, bar = _make_progress(progress, len(ls.cases), len(done_ids), spec.label)
    tasks = [asyncio.ensure_future(one(c)) for c in pending]
    done = len(done_ids)
    try:
        for fut in asyncio.as_completed(tasks):
            o = await fut
            _persist(con, run_id, o)
            done += 1
            tick({"run_id": run_id, "model": spec.label, "case_id": o.case.id, "done": done,
                  "total": len(ls.cases), "cached": o.call.cached, "error": o.call.error})
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if bar is not None:
            bar.close()
    return len(pending), caller.http_calls + (judge.http_calls if judge else 0)


def _run_coro(coro):
    """asyncio.run, also from inside a running loop (Jupyter): then in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict = {}

    def target():
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    t = threading.Thread(target=target, name="workbench-eval")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _new_run_id(suite: str) -> str:
    slug = "".join(ch if ch.isalnum() else "-" for ch in suite.lower()).strip("-")[:24] or "suite"
    return f"{slug}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def _config_json(ls: LoadedSuite, spec: ModelSpec) -> str:
    s = ls.suite
    doc = {"suite": s.name, "model": spec.public(), "prompt": ls.prompt.model_dump(),
           "prompt_path": str(ls.prompt_path) if ls.prompt_path else None, "golden": str(ls.golden_path),
           "scorers": [sc.model_dump(by_alias=True) for sc in s.scorers],
           "judge": s.judge.public() if s.judge else None, "gate": s.gate.model_dump(),
           "concurrency": s.concurrency, "timeout_s": s.timeout_s, "retries": s.retries.model_dump(),
           "judge_prompt_version": judge_mod.JUDGE_PROMPT_VERSION}
    # A model's free-form parameters (metadata, headers) may carry credentials: never store them.
    return redact_text(json.dumps(doc, default=str))[0]


def run_suite(con, suite_path, baseline: str | None = "latest", use_cache: bool = True, trigger: str = "manual",
              progress=None, *, models: list[str] | None = None, prompt: str | Path | None = None,
              resume: bool = True, backoff_base: float | None = None, stub: bool = False) -> EvalReport:
    """Run every model of a suite (or `models`, by label or model string) and gate each run.

    baseline: 'latest' (the latest passing run of the same suite and model), a run id, or None.
    use_cache: False forces fresh calls. trigger: manual | ci (the CI env var turns manual into ci).
    progress: None, True (tqdm bar on stderr) or a callable receiving one dict per finished case
    (raising from it stops the run; the next call resumes it). prompt: a prompt file replacing
    the suite's (e.g. a variant to test). backoff_base: overrides retries.base_delay_s.
    stub: serve the suite's models from the local stub server for the duration of the run (offline).
    """
    if stub:
        from .stub_server import StubServer

        with StubServer():
            return run_suite(con, suite_path, baseline, use_cache, trigger, progress, models=models, prompt=prompt,
                             resume=resume, backoff_base=backoff_base)
    variants = load_variants(suite_path, prompt=prompt)
    ls = variants[0]
    s = ls.suite
    specs = s.models
    if models:
        specs = [m for m in s.models if m.label in models or m.model in models]
        if not specs:
            raise WorkbenchError(f"{ls.path}: none of {', '.join(models)} is among the suite's models "
                                 f"({', '.join(m.label for m in s.models)})")
    if baseline not in (None, "latest", "none"):
        if con.execute("SELECT 1 FROM eval_runs WHERE run_id = ?", [baseline]).fetchone() is None:
            raise WorkbenchError(f"--baseline {baseline}: no such eval run (see SELECT run_id FROM eval_runs)")
    use_cache = use_cache and s.cache
    trig = _trigger(trigger)
    git_sha = _git_sha(ls.path.parent)
    pricer = Pricer()
    report = EvalReport(suite=s.name, suite_path=str(ls.path))
    judge_name = s.judge.model if s.judge and any(sc.needs_judge for sc in s.scorers) else None
    matrix = s.prompts is not None and prompt is None  # prompt x model: each prompt version has its own baseline
    for ls, spec in ((v, m) for v in variants for m in specs):
        suite_hash = ls.suite_hash()
        label = spec.label
        run_id, done_ids, resumed = None, set(), False
        if resume:
            row = con.execute(
                "SELECT run_id FROM eval_runs WHERE suite = ? AND suite_hash = ? AND model = ? "
                "AND status IN ('running', 'interrupted') ORDER BY started_at DESC LIMIT 1",
                [s.name, suite_hash, label]).fetchone()
            if row:
                run_id, resumed = row[0], True
                done_ids = {r for (r,) in con.execute(
                    "SELECT case_id FROM eval_results WHERE run_id = ? AND error IS NULL", [run_id]).fetchall()}
                con.execute("UPDATE eval_runs SET status = 'running' WHERE run_id = ?", [run_id])
        if run_id is None:
            run_id = _new_run_id(s.name)
            con.execute(
                """INSERT INTO eval_runs (run_id, suite, suite_path, suite_hash, dataset_version, prompt_version, model,
                       judge, judge_prompt_version, trigger, git_sha, started_at, status, n_cases, config)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), 'running', ?, ?)""",
                [run_id, s.name, str(ls.path), suite_hash, ls.dataset_version, ls.prompt.version, label, judge_name,
                 judge_mod.JUDGE_PROMPT_VERSION if judge_name else None, trig, git_sha, len(ls.cases),
                 _config_json(ls, spec)])
        # a case removed from the golden set since the interrupted run no longer counts
        ids = [c.id for c in ls.cases]
        con.execute("DELETE FROM eval_results WHERE run_id = ? AND list_position(?, case_id) IS NULL", [run_id, ids])
        try:
            n_now, http = _run_coro(_run_model(con, ls, spec, run_id=run_id, done_ids=done_ids, use_cache=use_cache,
                                               backoff_base=backoff_base, progress=progress, pricer=pricer))
        except BaseException:
            con.execute("UPDATE eval_runs SET status = 'interrupted' WHERE run_id = ?", [run_id])
            raise
        report.runs.append(_finish_run(con, ls, spec, run_id, baseline, n_now, resumed, http, pricer,
                                       prompt_version=ls.prompt.version if matrix else None))
    return report


def _finish_run(con, ls: LoadedSuite, spec: ModelSpec, run_id: str, baseline: str | None, n_now: int,
                resumed: bool, http: int, pricer: Pricer, prompt_version: str | None = None) -> RunReport:
    s = ls.suite
    n, n_err, n_cached, pass_rate, billed, avoided, judge_billed, p95 = con.execute(
        """SELECT count(*), count(error), count(*) FILTER (WHERE cached),
                  avg(CAST(coalesce(passed, false) AS DOUBLE)) FILTER (WHERE passed IS NOT NULL OR error IS NOT NULL),
                  sum(cost_usd) FILTER (WHERE NOT cached), sum(cost_usd) FILTER (WHERE cached),
                  sum(judge_billed_usd), quantile_cont(latency_ms, 0.95) FILTER (WHERE error IS NULL)
           FROM eval_results WHERE run_id = ?""", [run_id]).fetchone()
    priced = pricer.resolve(spec.price_as or spec.model)[0].price_key is not None
    cost = (billed or 0.0) if priced else None
    avoided = (avoided or 0.0) if priced else None
    if s.judge and any(sc.needs_judge for sc in s.scorers):
        jpriced = pricer.resolve(s.judge.price_as or s.judge.model)[0].price_key is not None
        judge_cost = (judge_billed or 0.0) if jpriced else None
    else:
        judge_cost = None
    scores = [v for (v,) in con.execute(
        "SELECT CASE WHEN error IS NOT NULL THEN 0 ELSE score END FROM eval_results WHERE run_id = ?",
        [run_id]).fetchall() if v is not None]
    mean, lo, hi = mean_interval(scores)
    base_id = None
    if baseline in ("latest",):
        base_id = find_baseline(con, s.name, spec.label, exclude=run_id, prompt_version=prompt_version)
    elif baseline not in (None, "none"):
        base_id = baseline
    gate = compare(con, run_id, base_id, s.gate)
    errors = [{"case_id": cid, "error_type": et, "attempts": att, "error": err} for cid, et, att, err in con.execute(
        "SELECT case_id, error_type, attempts, error FROM eval_results WHERE run_id = ? AND error IS NOT NULL "
        "ORDER BY case_id", [run_id]).fetchall()]
    con.execute(
        """UPDATE eval_runs SET status = 'finished', finished_at = now(), passed = ?, n_cases = ?, n_errors = ?,
               n_cached = ?, mean_score = ?, pass_rate = ?, cost_usd = ?, cost_avoided_usd = ?, judge_cost_usd = ?,
               p95_latency_ms = ?, baseline_run_id = ?, gate = ? WHERE run_id = ?""",
        [gate.passed, n, n_err, n_cached, mean, pass_rate, cost, avoided, judge_cost, p95, base_id, gate_json(gate),
         run_id])
    return RunReport(run_id=run_id, suite=s.name, model=spec.label, prompt_version=ls.prompt.version,
                     status="finished", n_cases=n, n_errors=n_err, n_cached=n_cached, n_run_now=n_now,
                     resumed=resumed, mean_score=mean, ci_low=lo, ci_high=hi, pass_rate=pass_rate, cost_usd=cost,
                     cost_avoided_usd=avoided, judge_cost_usd=judge_cost, p95_latency_ms=p95, http_calls=http,
                     gate=gate, errors=errors)


# ---------------------------------------------------------------------------------------------
# The offline demo
# ---------------------------------------------------------------------------------------------

DATA_DIR = resource("data", "evals")  # the bundled sample suite (`workbench.config.resource`)


def run_demo(con, data_dir: str | Path | None = None, progress=None) -> dict:
    """Offline: start the stub server, run the sample suite (the baseline), then the worse
    prompt variant (the gate fails). Returns {'baseline': EvalReport, 'candidate': EvalReport,
    'cost_quality': DataFrame}. Nothing leaves 127.0.0.1."""
    from .gate import cost_quality
    from .stub_server import StubServer

    d = Path(data_dir) if data_dir else DATA_DIR
    suite = d / "support_suite.yaml"
    if not suite.is_file():
        raise WorkbenchError(f"no sample suite at {suite}")
    with StubServer():
        first = run_suite(con, suite, progress=progress, backoff_base=0)
        second = run_suite(con, suite, prompt=d / "prompts" / "support_v2_terse.yaml", progress=progress,
                           backoff_base=0)
    return {"baseline": first, "candidate": second,
            "cost_quality": cost_quality(con, run_ids=[r.run_id for r in first.runs])}
