"""The one list of error classes every adapter sorts failed calls into (`calls.error_type`).

Each adapter hands `wb_error_class(code, message)` what its source says about a failure (an
HTTP status, a provider error code or type, an exception name, a batch result type, a message);
the first class whose pattern matches the lower-cased `code message` text wins. The SQL macro is
built from this table, so the classes, their order and the README's table cannot drift apart.
"""

from __future__ import annotations

# (class, what it means, SIMILAR TO pattern over "code message", lower-cased), in match order.
ERROR_CLASSES: tuple[tuple[str, str, str], ...] = (
    ("rate_limit", "rate limit, quota or provider overload (429, 529)",
     r".*(429|rate.?limit|ratelimit|too many requests|quota|overloaded|529|throttl).*"),
    ("timeout", "the request timed out (408, 504, deadline)", r".*(408|504|timeout|timed out|deadline).*"),
    ("content_filter", "blocked by a content filter, safety system or guardrail, or refused",
     r".*(content.?filter|content_policy|safety|refus|guardrail|blocked).*"),
    ("context_length", "the prompt exceeds the model's context window",
     r".*(context.?length|context_window|too long|maximum context).*"),
    ("auth", "authentication or permission (401, 403, a bad API key)",
     r".*(401|403|auth|permission|forbidden|api.?key|access.?denied).*"),
    ("canceled", "canceled before it ran (a canceled batch or request)", r".*(cancel).*"),
    ("expired", "expired before it ran (a batch window that closed: OpenAI batch_expired, Anthropic expired)",
     r".*(expired).*"),
    ("not_found", "no such model or endpoint (404)", r".*(404|not.?found|does not exist).*"),
    ("invalid_request", "the request was malformed or invalid (400, 422)",
     r".*(400|422|invalid|bad.?request|validation).*"),
    ("server", "the provider failed (5xx, connection errors)",
     r".*(5[0-9][0-9]|server|internal|unavailable|api.?error|connection).*"),
    ("other", "any other failure", ""),
)


def macro_sql() -> str:
    """`wb_error_class(code, message)`: the class for a failure, NULL when nothing is said about it.

    A plain CASE over the text, no subquery: a subquery is planned as a join, which may reorder
    rows, and the line path numbers records by their order."""
    s = "lower(coalesce(CAST(code AS VARCHAR), '') || ' ' || coalesce(CAST(message AS VARCHAR), ''))"
    whens = "\n        ".join(f"WHEN {s} SIMILAR TO '{pattern}' THEN '{name}'"
                               for name, _, pattern in ERROR_CLASSES if pattern)
    return f"""
CREATE OR REPLACE TEMP MACRO wb_error_class(code, message) AS
    CASE
        {whens}
        WHEN trim({s}) = '' THEN NULL
        ELSE 'other' END;
"""
