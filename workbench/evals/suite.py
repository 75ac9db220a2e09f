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
import os
import re
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
    k: int | None = Field(default=None, ge=1)
    expect: bool | None = Field(default=None, description="refusal: True/False, or None = the case has tag `refusal`")
    criteria: str | None = None
    field: str | None = Field(default=None, description="read this key of a JSON answer instead of the raw text")

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
    method: Literal["bootstrap", "t"] = "bootstrap"
    rule: Literal["regression", "noninferiority"] = Field(
        default="regression",
        description="regression: fail when the CI's upper bound < -max_drop (a drop shown with confidence); "
        "noninferiority: fail unless the CI's lower bound >= -max_drop (stricter)")
    bootstrap: int = Field(default=2000, ge=100)
    seed: int = 0
    min_score: float | None = Field(default=None, ge=0, le=1, description="also fail when the mean is below this")
    max_error_rate: float | None = Field(default=None, ge=0, le=1)
    fail_on_slices: bool = Field(default=False, description="a failing tag slice fails the run")
    min_slice_cases: int = Field(default=3, ge=1)


class Suite(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    golden: str = Field(min_length=1, description="golden set JSONL, relative to the suite file")
    prompt: Union[str, Prompt] = Field(description="prompt file (YAML) or an inline prompt")
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

    @property
    def name(self) -> str:
        return self.suite.name

    def suite_hash(self) -> str:
        s = self.suite
        doc = {
            "name": s.name, "prompt": self.prompt.model_dump(), "dataset_version": self.dataset_version,
            "models": [m.public() for m in s.models], "params": s.params,
            "scorers": [sc.model_dump(by_alias=True) for sc in s.scorers], "schemas": self.schemas,
            "judge": s.judge.public() if s.judge else None, "gate": s.gate.model_dump(),
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_golden(path: str | Path) -> tuple[list[Case], str]:
    """Parse a golden-set JSONL; returns (cases, dataset_version = sha256[:16] of the file)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise WorkbenchError(f"cannot read golden set {path}: {exc.strerror}") from None
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise WorkbenchError(f"{path} line {lineno}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(data, dict):
            raise WorkbenchError(f"{path} line {lineno}: a case is a JSON object with id, input or messages, expected")
        try:
            case = Case.model_validate(data)
        except ValidationError as exc:
            cid = f" (case {data.get('id')!r})" if "id" in data else ""
            raise WorkbenchError(f"{path} line {lineno}{cid}: {_problems(exc)}") from None
        if case.id in seen:
            raise WorkbenchError(f"{path} line {lineno}: id {case.id!r} already used on line {seen[case.id]}")
        seen[case.id] = lineno
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
    if prompt is not None:
        prompt_path = Path(prompt)
        prompt_obj = load_prompt(prompt_path)
    elif isinstance(suite.prompt, str):
        prompt_path = (base / suite.prompt).resolve()
        if not prompt_path.is_file():
            raise WorkbenchError(f"{path}: prompt: no file {prompt_path}")
        prompt_obj = load_prompt(prompt_path)
    else:
        prompt_obj = suite.prompt
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
    return LoadedSuite(path=path.resolve(), suite=suite, prompt=prompt_obj, prompt_path=prompt_path,
                       cases=cases, golden_path=golden_path, dataset_version=dataset_version, schemas=schemas)


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
