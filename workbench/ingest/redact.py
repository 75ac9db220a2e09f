"""Secrets never reach the database: API keys and credentials are redacted before anything is stored.

Two rules, applied to every JSON or text value the store keeps verbatim (`calls.attributes`,
`quarantine.raw`, `eval_runs.config`):

* by key name: a JSON string value under a key that names a credential (`authorization`,
  `api_key`/`api-key`/`x-api-key`, `cookie`, `password`, `secret`, `credential`, `private_key`, a
  key ending in `token`) becomes "[REDACTED]" — unless the value is only digits, so token
  *counts* (`"prompt_tokens": "12"` in a CSV export) survive;
* by value: anything shaped like a provider key or a bearer credential, wherever it appears
  (OpenAI/Anthropic/Langfuse `sk-…`, `Bearer …`, JWTs, AWS access key ids, Google `AIza…`,
  GitHub, Slack, Hugging Face, Groq and xAI tokens).

The same patterns run in DuckDB (a macro, vectorised, behind a cheap trigger test so clean
records cost one scan) and in Python (`redact_text`, for the few values written from Python).
"""

from __future__ import annotations

import re

REDACTED = "[REDACTED]"

# Key names that hold credentials (matched inside the key, case-insensitively).
_KEY_WORDS = r"authorization|api[_-]?key|apikey|secret|passw(?:or)?d|cookie|credential|private[_-]?key|x-goog-api-key"
# A JSON string value that is not all digits (escapes kept whole).
_STR = r'"(?:[^"\\]|\\.)*[^0-9"\\](?:[^"\\]|\\.)*"|"(?:[^"\\]|\\.)*\\.(?:[^"\\]|\\.)*"'
BY_KEY = rf'("(?i:[^"]*(?:{_KEY_WORDS})[^"]*|[^"]*token)"\s*:\s*)(?:{_STR})'

# Values shaped like credentials, wherever they appear. (pattern, replacement)
BY_VALUE: tuple[tuple[str, str], ...] = (
    (r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}", r"\1 " + REDACTED),
    (r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}", REDACTED),  # OpenAI, Anthropic (sk-ant-), Langfuse (sk-lf-, pk-lf-)
    (r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", REDACTED),  # JWT
    (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", REDACTED),  # AWS access key id
    (r"\bAIza[0-9A-Za-z_-]{35}", REDACTED),  # Google API key
    (r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})", REDACTED),
    (r"\bxox[abprs]-[A-Za-z0-9-]{10,}", REDACTED),  # Slack
    (r"\b(?:hf|gsk)_[A-Za-z0-9]{30,}", REDACTED),  # Hugging Face, Groq
    (r"\bxai-[A-Za-z0-9]{30,}", REDACTED),
    # key=value in URLs and log text (`?api_key=…`, `password=…`)
    (r"(?i)\b(password|passwd|pwd|secret|api[_-]?key|apikey|access_token|auth_token|token)=[^&\s\"']+",
     r"\1=" + REDACTED),
)
# Cheap first test: a text with none of these cannot match any rule above.
TRIGGER = (r"(?i)(authoriz|pwd=|api[_-]?key|apikey|secret|passw|cookie|credential|private[_-]?key|token\"|bearer|basic |"
           r"sk-|pk-|rk-|eyj|akia|asia|aiza|gh[pousr]_|github_pat_|xox|hf_|gsk_|xai-)")

_PY_BY_KEY = re.compile(BY_KEY)
_PY_BY_VALUE = [(re.compile(p), r.replace("\\1", "\\g<1>")) for p, r in BY_VALUE]
_PY_TRIGGER = re.compile(TRIGGER)


def redact_text(text: str) -> tuple[str, int]:
    """(text with credentials replaced, number of replacements)."""
    if not text or not _PY_TRIGGER.search(text):
        return text, 0
    text, n = _PY_BY_KEY.subn(lambda m: m.group(1) + f'"{REDACTED}"', text)
    for pattern, repl in _PY_BY_VALUE:
        text, k = pattern.subn(repl, text)
        n += k
    return text, n


def _sql(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def macro_sql() -> str:
    """`wb_redact(text)`: the text with credentials replaced (NULL stays NULL)."""
    expr = f"regexp_replace(CAST(x AS VARCHAR), {_sql(BY_KEY)}, {_sql(chr(92) + '1' + chr(34) + REDACTED + chr(34))}, 'g')"
    for pattern, repl in BY_VALUE:
        expr = f"regexp_replace({expr}, {_sql(pattern)}, {_sql(repl)}, 'g')"
    return f"""
CREATE OR REPLACE TEMP MACRO wb_redact(x) AS
    CASE WHEN x IS NULL OR NOT regexp_matches(CAST(x AS VARCHAR), {_sql(TRIGGER)}) THEN CAST(x AS VARCHAR)
         ELSE {expr} END;
"""
