"""Suite files (YAML) and golden sets (JSONL): models, loading, validation, hashing.

A suite names a golden set, a prompt template (with a version), one or more models (LiteLLM
model strings plus LiteLLM kwargs), scorers with thresholds and weights, an optional judge,
concurrency / timeout / retries and the gate. Relative paths resolve from the suite file.
`${VAR}` and `${VAR:-default}` in model and judge settings are read from the environment
(so a suite can point at `${WORKBENCH_STUB_URL}` or `${OPENAI_API_KEY}` without storing them).
Errors name the file and the field (and for golden sets: the line).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import WorkbenchError

# Keys never written to the database nor hashed (they change between machines and runs).
SECRET_KEYS = frozenset({"api_key", "api_base", "base_url", "api_version", "aws_access_key_id",
                         "aws_secret_access_key", "aws_session_token", "vertex_credentials", "extra_headers"})
DETERMINISTIC_SCORERS = (
    "exact", "normalized", "contains", "icontains", "regex", "json_valid", "json_schema", "numeric",
    "token_f1", "rouge_l", "refusal", "recall_at_k", "precision_at_k", "mrr", "ndcg",
    "not_contains", "not_icontains", "not_regex", "latency", "cost", "python",
)
JUDGE_SCORERS = ("rubric", "faithfulness", "answer_relevance")
SCORER_TYPES = DETERMINISTIC_SCORERS + JUDGE_SCORERS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Message(_Strict):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str


class Case(_Strict):
    """One golden-set line."""

    id: str
    input: str | None = None
    messages: list[Message] | None = None
    expected: Any = None
    contexts: list[str] = Field(default_factory=list)
    retrieved_ids: list[str] | None = None
    relevant_ids: list[str] | None = None
    tags: list[str] = Field(default_factory=list)
    vars: dict[str, Any] = Field(default_factory=dict, description="extra template variables")
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v):
        if isinstance(v, bool) or not isinstance(v, (str, int)) or str(v).strip() == "":
            raise ValueError("must be a non-empty string or integer")
        return str(v)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, v):
        return [v] if isinstance(v, str) else v

    @field_validator("retrieved_ids", "relevant_ids", mode="before")
    @classmethod
    def _ids(cls, v):
        return None if v is None else [str(x) for x in v] if isinstance(v, list) else v

    @model_validator(mode="after")
    def _has_input(self):
        if (self.input is None) == (self.messages is None):
            raise ValueError("give exactly one of `input` (a string) or `messages` (a chat list)")
        if self.messages is not None and not self.messages:
            raise ValueError("`messages` is empty")
        return self


class Prompt(_Strict):
    """A prompt template. `{{input}}`, `{{contexts}}` and case `vars` are substituted."""

    version: str = Field(min_length=1)
    system: str | None = None
    user: str = "{{input}}"
    description: str = ""


class ModelSpec(BaseModel):
    """A model under test: a LiteLLM model string plus any LiteLLM kwargs (api_base, temperature, ...)."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    name: str | None = Field(default=None, description="display label (default: the model string)")
    price_as: str | None = Field(default=None, description="price-book name to price this model's tokens with")

    @property
    def kwargs(self) -> dict[str, Any]:
        return {k: _expand(v, f"models.{self.model}.{k}") for k, v in (self.model_extra or {}).items()}

    @property
    def label(self) -> str:
        return self.name or self.model

    def public(self) -> dict:
        """Settings safe to hash and store (no endpoints or credentials)."""
        extra = {k: v for k, v in (self.model_extra or {}).items() if k not in SECRET_KEYS}
        return {"model": self.model, "price_as": self.price_as, **extra}


class JudgeSpec(ModelSpec):
    logprobs: bool = Field(default=True, description="ask for top_logprobs to weight rubric scores (G-Eval)")
    top_logprobs: int = Field(default=5, ge=1, le=20)

    @property
    def kwargs(self) -> dict[str, Any]:
        return {k: _expand(v, f"judge.{k}") for k, v in (self.model_extra or {}).items()}


class ScorerSpec(_Strict):
    type: Literal[SCORER_TYPES]  # type: ignore[valid-type]
    name: str | None = None
    threshold: float = Field(default=0.5, ge=0, le=1, description="a case passes this scorer at score >= threshold")
    weight: float = Field(default=1.0, ge=0)
    tags: list[str] | None = Field(default=None, description="apply only to cases with one of these tags")
    skip_tags: list[str] = Field(default_factory=list, description="never apply to cases with these tags")
    # parameters (each scorer reads the ones it needs)
    value: Any = Field(default=None, description="expected value; default: the case's `expected`")
    pattern: str | None = None
    schema_: dict | str | None = Field(default=None, alias="schema")
    tolerance: float = Field(default=0.0, ge=0)
    relative: bool = False
    pick: Literal["last", "first", "nearest"] = Field(
        default="last", description="numeric: which number of the answer is compared (last, first, nearest the expected)")
    k: int | None = Field(default=None, ge=1)
    expect: bool | None = Field(default=None, description="refusal: True/False, or None = the case has tag `refusal`")
    criteria: str | None = None
    field: str | None = Field(default=None, description="read this key of a JSON answer instead of the raw text")
    max_ms: float | None = Field(default=None, gt=0, description="latency: the case passes at latency <= max_ms")
    max_usd: float | None = Field(default=None, ge=0, description="cost: the case passes at cost <= max_usd")
    function: str | None = Field(default=None, description="python: package.module:callable(case, output)")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("tags", "skip_tags", mode="before")
    @classmethod
    def _listify(cls, v):
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _params(self):
        if self.type == "regex" and self.pattern:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from None
        if self.type == "not_regex" and not self.pattern:
            raise ValueError("not_regex needs `pattern`")
        if self.type in ("not_contains", "not_icontains") and self.value is None:
            raise ValueError(f"{self.type} needs `value` (a string or a list of strings the answer must not contain)")
        if self.type == "latency" and self.max_ms is None:
            raise ValueError("latency needs `max_ms`")
        if self.type == "cost" and self.max_usd is None:
            raise ValueError("cost needs `max_usd`")
        if self.type == "python" and (not self.function or ":" not in self.function):
            raise ValueError("python needs `function: package.module:callable`")
        if self.type == "json_schema" and self.schema_ is None:
            raise ValueError("json_schema needs `schema` (inline mapping or a file path)")
        if self.type == "rubric" and not self.criteria:
            raise ValueError("rubric needs `criteria` (what a good answer does)")
        return self

    @property
    def key(self) -> str:
        return self.name or self.type

    @property
    def needs_judge(self) -> bool:
        return self.type in JUDGE_SCORERS

    def applies(self, case: Case) -> bool:
        if self.tags is not None and not set(self.tags) & set(case.tags):
            return False
        return not set(self.skip_tags) & set(case.tags)


class Retries(_Strict):
    max_attempts: int = Field(default=4, ge=1, le=20)
    base_delay_s: float = Field(default=1.0, ge=0)
    max_delay_s: float = Field(default=30.0, ge=0)


class Gate(_Strict):
    metric: str = Field(default="score", description="score (weighted case score), pass (0/1), or a scorer name")
    max_drop: float = Field(default=0.05, ge=0, description="allowed drop of the mean (the margin)")
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    method: Literal["auto", "bootstrap", "t", "exact"] = Field(
        default="auto", description="auto: exact (McNemar) for 0/1 metrics, else the bootstrap from 30 paired "
        "cases and the t interval below; bootstrap also falls back to t below 30 cases")
    rule: Literal["regression", "noninferiority"] = Field(
        default="regression",
        description="regression: fail when the CI's upper bound < -max_drop (a drop shown with confidence); "
        "noninferiority: fail unless the CI's lower bound >= -max_drop (stricter)")
    bootstrap: int = Field(default=2000, ge=100)
    seed: int = 0
    min_score: float | None = Field(default=None, ge=0, le=1, description="also fail when the mean is below this")
    max_error_rate: float = Field(
        default=0.0, ge=0, le=1, description="share of cases without an answer (call errors) allowed; above it "
        "the run fails and never becomes a baseline. Default 0: any case without an answer fails the run")
    power: float = Field(default=0.8, gt=0, lt=1, description="power for the minimum detectable drop")
    detect_drop: float | None = Field(
        default=None, gt=0, le=1, description="the drop the golden set must be able to catch with `power` "
        "(default: twice max_drop, at least 0.10); a smaller set is warned about")
    fail_underpowered: bool = Field(default=False, description="fail (not only warn) when the set is too small")
    fail_on_slices: bool = Field(default=False, description="a failing tag slice fails the run")
    min_slice_cases: int = Field(default=3, ge=1)

    @property
    def target_drop(self) -> float:
        return self.detect_drop if self.detect_drop is not None else max(2 * self.max_drop, 0.10)


class Suite(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    golden: str = Field(min_length=1, description="golden set JSONL, relative to the suite file")
    prompt: Union[str, Prompt, None] = Field(default=None, description="prompt file (YAML) or an inline prompt")
    prompts: list[Union[str, Prompt]] | None = Field(
        default=None, min_length=1, description="several prompts (files or inline): each prompt x model is its own "
        "run, gated against the latest passing run of the same prompt version")
    repeat: int = Field(default=1, ge=1, le=100, description="epochs: each case is asked this many times")
    models: list[ModelSpec] = Field(min_length=1)
    scorers: list[ScorerSpec] = Field(min_length=1)
    judge: JudgeSpec | None = None
    concurrency: int = Field(default=4, ge=1, le=256)
    timeout_s: float = Field(default=60.0, gt=0)
    retries: Retries = Field(default_factory=Retries)
    gate: Gate = Field(default_factory=Gate)
    cache: bool = True
    params: dict[str, Any] = Field(default_factory=dict, description="LiteLLM kwargs for every model")

    @field_validator("models", mode="before")
    @classmethod
    def _models(cls, v):
        if isinstance(v, (str, dict)):
            v = [v]
        return [{"model": m} if isinstance(m, str) else m for m in v] if isinstance(v, list) else v

    @field_validator("judge", mode="before")
    @classmethod
    def _judge(cls, v):
        return {"model": v} if isinstance(v, str) else v

    @model_validator(mode="after")
    def _consistent(self):
        if (self.prompt is None) == (self.prompts is None):
            raise ValueError("give exactly one of `prompt` (one prompt) or `prompts` (a list: prompt x model runs)")
        keys = [s.key for s in self.scorers]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"scorer names must be unique; give `name:` to tell apart {', '.join(dupes)}")
        if any(s.needs_judge for s in self.scorers) and self.judge is None:
            raise ValueError("judge scorers (rubric, faithfulness, answer_relevance) need a `judge:` model")
        if self.gate.metric not in ("score", "pass") and self.gate.metric not in keys:
            raise ValueError(f"gate.metric {self.gate.metric!r} is neither score, pass nor a scorer name ({', '.join(keys)})")
        labels = [m.label for m in self.models]
        if len(set(labels)) != len(labels):
            raise ValueError("models must be distinct (use `name:` to run one model twice with other settings)")
        return self


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _expand(value, where: str):
    if isinstance(value, str):
        def sub(m):
            got = os.environ.get(m.group(1))
            if got is None:
                if m.group(2) is None:
                    raise WorkbenchError(f"{where}: environment variable {m.group(1)} is not set "
                                         f"(set it, or write ${{{m.group(1)}:-default}})")
                return m.group(2)
            return got
        return _VAR.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, where) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


from ..config import load_model  # noqa: E402
from ..config import validation_problems as _problems  # noqa: E402


@dataclass
class LoadedSuite:
    path: Path
    suite: Suite
    prompt: Prompt
    prompt_path: Path | None
    cases: list[Case]
    golden_path: Path
    dataset_version: str
    schemas: dict[str, dict] = field(default_factory=dict)  # scorer key -> JSON schema
    functions: dict[str, Any] = field(default_factory=dict)  # scorer key -> python scorer callable

    @property
    def name(self) -> str:
        return self.suite.name

    def suite_hash(self) -> str:
        s = self.suite
        doc = {
            "name": s.name, "prompt": self.prompt.model_dump(), "dataset_version": self.dataset_version,
            "models": [m.public() for m in s.models], "params": s.params,
            "scorers": [sc.model_dump(by_alias=True) for sc in s.scorers], "schemas": self.schemas,
            "judge": s.judge.public() if s.judge else None, "gate": s.gate.model_dump(), "repeat": s.repeat,
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


_LIST_FIELDS = ("contexts", "retrieved_ids", "relevant_ids", "tags")
_JSON_FIELDS = ("messages", "vars", "metadata")


def _table_record(row: dict) -> dict:
    """A CSV / Parquet row as a case: empty cells are missing; list fields take a JSON list or
    `|`-separated text; messages / vars / metadata take JSON; `vars.X` / `metadata.X` columns fill
    those mappings; `expected` holding a JSON list or object is parsed."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or (isinstance(value, str) and value.strip() == "") or key is None:
            continue
        if hasattr(value, "tolist"):
            value = value.tolist()
        if isinstance(value, float) and math.isnan(value):
            continue
        head, dot, sub = str(key).partition(".")
        if dot and head in ("vars", "metadata"):
            out.setdefault(head, {})[sub] = value
            continue
        if isinstance(value, str) and (key in _JSON_FIELDS or key in _LIST_FIELDS or key == "expected") \
                and value.lstrip()[:1] in ("[", "{"):
            try:
                value = json.loads(value)
            except ValueError:
                if key != "expected":
                    raise ValueError(f"{key}: not valid JSON") from None
        elif isinstance(value, str) and key in _LIST_FIELDS:
            value = [v.strip() for v in value.split("|") if v.strip()]
        out[key] = value
    return out


def _golden_records(path: Path, raw: bytes):
    """(where, record or an error message) for each case of a JSONL, CSV or Parquet file."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        import csv
        import io

        text = raw.decode("utf-8-sig", errors="replace")
        reader = csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ",")
        for row in reader:
            where = f"row {reader.line_num - 1}"
            try:
                yield where, _table_record(row)
            except ValueError as exc:
                yield where, str(exc)
        return
    if suffix in (".parquet", ".pq"):
        import duckdb

        try:
            rel = duckdb.connect().execute("SELECT * FROM read_parquet(?)", [str(path)])
        except duckdb.Error as exc:
            raise WorkbenchError(f"cannot read golden set {path}: {str(exc).splitlines()[0]}") from None
        cols = [d[0] for d in rel.description]
        for n, values in enumerate(rel.fetchall(), 1):
            try:
                yield f"row {n}", _table_record(dict(zip(cols, values)))
            except ValueError as exc:
                yield f"row {n}", str(exc)
        return
    for lineno, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            data = json.loads(line)
        except ValueError as exc:
            yield f"line {lineno}", f"not valid JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(data, dict):
            yield f"line {lineno}", "a case is a JSON object with id, input or messages, expected"
            continue
        yield f"line {lineno}", data


def load_golden(path: str | Path) -> tuple[list[Case], str]:
    """Parse a golden set (JSONL; or CSV / TSV / Parquet by the file's suffix); returns
    (cases, dataset_version = sha256[:16] of the file). Errors name the line (or row)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise WorkbenchError(f"cannot read golden set {path}: {exc.strerror}") from None
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for where, data in _golden_records(path, raw):
        if isinstance(data, str):
            raise WorkbenchError(f"{path} {where}: {data}")
        try:
            case = Case.model_validate(data)
        except ValidationError as exc:
            cid = f" (case {data.get('id')!r})" if "id" in data else ""
            raise WorkbenchError(f"{path} {where}{cid}: {_problems(exc)}") from None
        if case.id in seen:
            raise WorkbenchError(f"{path} {where}: id {case.id!r} already used on {seen[case.id]}")
        seen[case.id] = where
        cases.append(case)
    if not cases:
        raise WorkbenchError(f"{path}: the golden set has no cases")
    return cases, hashlib.sha256(raw).hexdigest()[:16]


def load_prompt(path: Path) -> Prompt:
    return load_model(path, Prompt, "prompt", "version, system, user")


def load_suite(path: str | Path, prompt: str | Path | None = None) -> LoadedSuite:
    """Load and validate a suite, its golden set and prompt. `prompt` overrides the suite's prompt file."""
    path = Path(path)
    suite = load_model(path, Suite, "suite", "name, golden, prompt, models, scorers", name_from_file=True)
    base = path.parent
    golden_path = (base / suite.golden).resolve()
    if not golden_path.is_file():
        raise WorkbenchError(f"{path}: golden: no file {golden_path}")
    cases, dataset_version = load_golden(golden_path)
    prompt_path = None
    if isinstance(prompt, Prompt):
        prompt_obj = prompt
    elif prompt is not None:
        prompt_path = Path(prompt)
        prompt_obj = load_prompt(prompt_path)
    else:
        entry, where = (suite.prompt, "prompt") if suite.prompt is not None else (suite.prompts[0], "prompts.0")
        prompt_obj, prompt_path = _resolve_prompt(entry, base, f"{path}: {where}")
    schemas = {}
    for i, sc in enumerate(suite.scorers):
        if sc.type == "json_schema":
            schema = sc.schema_
            if isinstance(schema, str):
                spath = (base / schema).resolve()
                try:
                    schema = json.loads(spath.read_text())
                except OSError as exc:
                    raise WorkbenchError(f"{path}: scorers.{i}.schema: cannot read {spath}: {exc.strerror}") from None
                except ValueError as exc:
                    raise WorkbenchError(f"{path}: scorers.{i}.schema: {spath} is not JSON: {exc}") from None
            try:
                import jsonschema

                jsonschema.validators.validator_for(schema).check_schema(schema)
            except ImportError:  # pragma: no cover - jsonschema ships with the jupyter stack
                pass
            except Exception as exc:
                raise WorkbenchError(f"{path}: scorers.{i}.schema: not a valid JSON Schema: {exc}") from None
            schemas[sc.key] = schema
    functions = {sc.key: load_function(sc.function, base, f"{path}: scorers.{i}.function")
                 for i, sc in enumerate(suite.scorers) if sc.type == "python"}
    return LoadedSuite(path=path.resolve(), suite=suite, prompt=prompt_obj, prompt_path=prompt_path,
                       cases=cases, golden_path=golden_path, dataset_version=dataset_version, schemas=schemas,
                       functions=functions)


def _resolve_prompt(entry, base: Path, where: str) -> tuple[Prompt, Path | None]:
    if isinstance(entry, Prompt):
        return entry, None
    prompt_path = (base / entry).resolve()
    if not prompt_path.is_file():
        raise WorkbenchError(f"{where}: no file {prompt_path}")
    return load_prompt(prompt_path), prompt_path


def load_variants(path: str | Path, prompt: str | Path | None = None) -> list[LoadedSuite]:
    """The suite once per prompt: `prompt` (an override), the suite's `prompt`, or each of `prompts`."""
    first = load_suite(path, prompt=prompt)
    if prompt is not None or first.suite.prompts is None:
        return [first]
    out = [first]
    base = Path(path).parent
    for i, entry in enumerate(first.suite.prompts[1:], 1):
        p, ppath = _resolve_prompt(entry, base, f"{path}: prompts.{i}")
        out.append(dataclasses.replace(first, prompt=p, prompt_path=ppath))
    versions = [v.prompt.version for v in out]
    if len(set(versions)) != len(versions):
        raise WorkbenchError(f"{path}: prompts: each prompt needs its own version (got {', '.join(versions)})")
    return out


def load_function(ref: str, base: Path, where: str):
    """`package.module:callable` (the suite's folder is importable too)."""
    import importlib
    import sys

    module_name, _, attr = ref.partition(":")
    added = str(base.resolve()) not in sys.path
    if added:
        sys.path.insert(0, str(base.resolve()))
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure is the suite's problem
        raise WorkbenchError(f"{where}: cannot import {module_name!r}: {type(exc).__name__}: {exc}") from None
    finally:
        if added:
            sys.path.remove(str(base.resolve()))
    fn = module
    for part in attr.split("."):
        fn = getattr(fn, part, None)
        if fn is None:
            raise WorkbenchError(f"{where}: {module_name} has no {attr!r}")
    if not callable(fn):
        raise WorkbenchError(f"{where}: {ref} is not callable")
    return fn


def render_messages(prompt: Prompt, case: Case) -> list[dict]:
    """The chat messages for one case: the template's system + user, or the case's own messages."""
    ctx = "\n".join(f"- {c}" for c in case.contexts)
    values = {"input": case.input or "", "contexts": ctx, "id": case.id, **{k: str(v) for k, v in case.vars.items()}}

    def fill(t: str) -> str:
        return re.sub(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}",
                      lambda m: values.get(m.group(1), m.group(0)), t)

    msgs: list[dict] = []
    if case.messages is not None:
        if prompt.system and not any(m.role == "system" for m in case.messages):
            msgs.append({"role": "system", "content": fill(prompt.system)})
        msgs += [{"role": m.role, "content": m.content} for m in case.messages]
        return msgs
    if prompt.system:
        msgs.append({"role": "system", "content": fill(prompt.system)})
    msgs.append({"role": "user", "content": fill(prompt.user)})
    return msgs


def case_question(case: Case) -> str:
    if case.input is not None:
        return case.input
    users = [m.content for m in case.messages or [] if m.role == "user"]
    return users[-1] if users else ""
