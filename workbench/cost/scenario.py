"""Scenario files: the levers of a routing design, validated, and what "monthly" means.

The engine that applies them is `engine.py`; the profile it works on is `profile.py`.

The engine never touches raw calls twice. `build_profile` aggregates `calls` once, in DuckDB,
into a workload profile: one row per feature x provider x model x prompt version x service tier
x input-size bin x day, with calls and every token bucket summed. A scenario is then a few
vectorised pandas operations over that profile (thousands of rows whatever the call count), so
evaluating one takes milliseconds.

Levers apply in this fixed, documented order (each sees the traffic the previous one left):
 1. semantic cache   a hit rate removes that share of calls (and their tokens), per feature or all;
                     `logs`: each feature's exact-repeat rate, a floor (evidence.py);
 2. routing rules    each rule takes `share` of the traffic it matches (feature, model, prompt
                     version, input-token range; matched against today's traffic) to a target
                     model, scaling output by `output_ratio`; the shares of the rules matching
                     one slice of traffic must sum to at most 1;
 3. prompt caching   sets the cache-read share of input tokens: `logs` (keep what the logs
                     show, the default), `prefix_reuse` (the share of input that repeats an
                     earlier request's prefix, where the data records it, as in the Mooncake
                     trace), or a number; per feature or all;
 4. service tiers    a share of a feature's traffic moves to `batch` or `flex` rates;
 5. retries          `retry_overhead` adds that share of extra calls; `logs` (default) adds
                     none beyond the failed calls and retries already in the logs;
 6. volume           each multiplier scales all traffic. API cost is linear in it; self-hosted
                     models cost the GPUs that the peak hour needs, so their cost steps.

"Monthly" = the observed cost per day (the window from the first to the last call, in days)
x 30.4375. The output states the window and the factor.

A scenario that cannot be right says so (`engine.scenario_warnings`): a `match:` (or a
`tiers` / `semantic_cache_hit_rate` / `prompt_cache.features` key) naming a feature, model or
prompt version no call has is a warning with the closest existing values; a routing `to:` a
model with no price is refused by `workbench project` (and listed as unpriced by `Projector`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DAYS_PER_MONTH = 30.4375
HOURS_PER_MONTH = DAYS_PER_MONTH * 24
DEFAULT_MULTIPLIERS = (1.0, 10.0, 50.0, 100.0)
# Input-size bins (upper edges, inclusive). Every context-price threshold in litellm's map is an
# edge, so a bin lies wholly above or below each threshold and threshold rates apply exactly.
BIN_EDGES = (1024, 2048, 4096, 8192, 16384, 32000, 64000, 100000, 128000, 200000, 256000, 272000, 512000)
TOKEN_COLS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens",
              "output_tokens", "reasoning_tokens", "prefix_reused_tokens")
KEY_COLS = ("feature", "provider", "model", "prompt_version", "tier", "rate_period", "rate_multiplier", "bin", "day")


# ---------------------------------------------------------------------------------------------
# Scenario files
# ---------------------------------------------------------------------------------------------

Share = float


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Match(_Strict):
    feature: list[str] | None = None
    model: list[str] | None = None
    prompt_version: list[str] | None = None
    min_input_tokens: int | None = Field(default=None, ge=0)
    max_input_tokens: int | None = Field(default=None, ge=0)

    @field_validator("feature", "model", "prompt_version", mode="before")
    @classmethod
    def _listify(cls, v):
        return [v] if isinstance(v, str) else v


class RoutingRule(_Strict):
    name: str | None = None
    match: Match = Field(default_factory=Match)
    share: float = Field(ge=0, le=1)
    to: str = Field(min_length=1, description="target model, e.g. gpt-4o-mini or anthropic/claude-haiku-4-5")
    provider: str | None = None
    output_ratio: float = Field(default=1.0, gt=0)


class PromptCache(_Strict):
    read_share: Union[Literal["logs", "prefix_reuse"], float] = "logs"
    features: dict[str, Union[Literal["logs", "prefix_reuse"], float]] = Field(default_factory=dict)

    @field_validator("read_share")
    @classmethod
    def _share(cls, v):
        if isinstance(v, float) and not 0 <= v <= 1:
            raise ValueError("must be between 0 and 1, 'logs' or 'prefix_reuse'")
        return v


class Scenario(_Strict):
    name: str
    description: str = ""
    multipliers: list[float] | None = None
    # a share of calls, per feature, or `logs`: each feature's exact-repeat rate (evidence.py)
    semantic_cache_hit_rate: Union[Literal["logs"], float, dict[str, float]] = 0.0
    routing: list[RoutingRule] = Field(default_factory=list)
    prompt_cache: PromptCache = Field(default_factory=PromptCache)
    tiers: dict[str, dict[Literal["batch", "flex", "priority"], float]] = Field(default_factory=dict)
    retry_overhead: Union[Literal["logs"], float] = "logs"

    @field_validator("semantic_cache_hit_rate")
    @classmethod
    def _rate(cls, v):
        if v == "logs":
            return v
        for x in (v.values() if isinstance(v, dict) else [v]):
            if not 0 <= x <= 1:
                raise ValueError("hit rates must be in [0, 1] (or `logs`: the exact-repeat rate the logs show)")
        return v

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, v):
        for feature, shares in v.items():
            if any(s < 0 for s in shares.values()) or sum(shares.values()) > 1 + 1e-9:
                raise ValueError(f"tier shares for {feature!r} must be >= 0 and sum to at most 1")
        return v

    @field_validator("retry_overhead")
    @classmethod
    def _retry(cls, v):
        if isinstance(v, float) and not 0 <= v <= 5:
            raise ValueError("must be between 0 and 5 (a share of extra calls), or 'logs'")
        return v

    @model_validator(mode="after")
    def _same_match_shares(self):
        groups: dict[str, float] = {}
        for r in self.routing:
            key = r.match.model_dump_json()
            groups[key] = groups.get(key, 0) + r.share
            if groups[key] > 1 + 1e-9:
                raise ValueError(f"routing shares for the same match {key} sum to {groups[key]:.2f} (> 1)")
        return self

    def digest(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


BASELINE = Scenario(name="baseline", description="today's mix, scaled")


def load_scenario(path: str | Path) -> Scenario:
    """Parse and validate a scenario YAML; errors name the file and the field."""
    from ..config import load_model

    return load_model(path, Scenario, "scenario", "at least `name`", name_from_file=True)
