"""The format adapters, in sniffing order (most specific first)."""

from __future__ import annotations

from importlib import import_module

from .base import Adapter

# Modules holding an `ADAPTERS` list. Order matters for sniffing: specific shapes first,
# the generic table formats last.
_MODULES = ["openai", "claude_code", "anthropic", "bedrock", "litellm", "langfuse", "langsmith", "otel", "helicone", "traces", "generic"]


def all_adapters() -> list[Adapter]:
    found: list[Adapter] = []
    for name in _MODULES:
        try:
            module = import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue
            raise
        found.extend(module.ADAPTERS)
    return found


def by_name(name: str) -> Adapter | None:
    return next((a for a in all_adapters() if a.name == name), None)
