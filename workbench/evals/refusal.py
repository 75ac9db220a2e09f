"""Refusal detection: does an answer decline (or say it cannot do) what was asked?

The text is normalised first (NFKC; curly and other apostrophes and quotes made straight; zero-
width characters dropped; lower case), so `I’m sorry` reads like `I'm sorry`. A refusal is a
first-person statement of inability or unwillingness about the request: "I can't / cannot /
won't / am unable to / am not able (allowed, permitted) to" followed by a verb of doing what was
asked (help, assist, answer, provide, share, ...), "I must decline", "outside my scope", "not
something I can ...", "I don't have access to / information about", "I can only help with ...".
Not refusals: an apology alone ("I'm sorry to hear that"), a pointer to support ("please contact
support"), a policy stated about others ("you can't", "refunds are not available"), idioms
("I can't wait", "I can't help but", "I can't recommend it enough") and conditionals ("if I can't
answer, ..."). Measured on tests/data/evals/refusals.jsonl (see the README for the figures).
"""

from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
                         "\u00b4": "'", "`": "'", "\uff07": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
                         "\u2033": '"', "\u2014": " - ", "\u2013": " - "})
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def normalize_typography(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").translate(_QUOTES)
    return " ".join(_INVISIBLE.sub("", text).split()).lower()


_I = r"\bi(?:'m| am|m)?"
_CANT = (r"(?: (?:can'?t|cannot|can not|won'?t(?: be able to)?|will not(?: be able to)?|must (?:respectfully )?"
         r"decline to|refuse to|decline to|would rather not)|'d rather not"
         r"|(?:'m|m| am) (?:unable to|not able to|not (?:allowed|permitted|authori[sz]ed|going) to"
         r"|not in a position to|not comfortable(?: with)?))")
_VERB = (r"(?:help(?! but\b)|assist|answer|respond|reply|provide|share|give(?! up\b)|offer|disclose|reveal|discuss|"
         r"comment|comply|fulfil|fulfill|complete|process|do (?:that|this|it)\b|do\b(?= (?:so|that|this)\b)|support|"
         r"look (?:that|this|it|up)|access|tell(?! you how\b)|generate|create|write|make|engage|continue|"
         r"recommend(?![^.!?]{0,40}\benough\b)|advise|confirm|book|perform|handle|explain|translate|send|"
         r"change|modify|go into|speak|helping|assisting|sharing|providing|be of (?:help|assistance|use)|issue|grant|"
         r"approve)")
_PATTERNS = [
    rf"\bi{_CANT} {_VERB}",
    rf"{_I} (?:unable|not able) to {_VERB}",
    rf"\bi (?:'m |am )?(?:can'?t|cannot|can not|won'?t|will not)\b(?= *(?:[,.!;:-]|$| sorry| here\b| for you))",
    rf"\b(?:unable|not able) to (?:help|assist|provide|answer|do)\b(?=[^.!?]{{0,30}}\b(?:that|this|request)\b)",
    r"\bi (?:must|have to|'m going to have to|am going to have to|'ll have to)? ?(?:respectfully )?decline\b",
    r"\bi(?:'m| am) going to (?:have to )?(?:decline|pass on)\b",
    r"\bi (?:don'?t|do not) have (?:access to|any information|information (?:about|on)|the ability|enough information)",
    r"\b(?:outside|beyond) (?:of )?(?:my|the|this assistant's) (?:scope|remit|capabilities|expertise)\b"
    r"|\b(?:outside|beyond) the scope of (?:this|my|what i)\b|\bbeyond what i can do\b",
    r"\bnot something i(?:'m| am)? (?:can|able to|allowed to)\b|\bsomething i can'?t (?:help|assist|do)\b"
    r"|\b(?:isn'?t|is not|'s not) something i (?:can|am able|'m able)\b|\bsomething i(?:'m| am) (?:not able|unable) to\b",
    r"\bi can only (?:help|assist|answer|discuss|provide)\b(?! you\b)|\bi(?:'m| am) only (?:able|allowed|permitted) to\b",
    r"\bas an ai\b[^.!?]{0,30}\bi (?:can'?t|cannot|can not|don'?t|do not|am not|'m not)\b",
    r"\bwe (?:can'?t|cannot|are unable to|'re unable to) (?:help|assist) (?:you )?with (?:that|this|your request)",
]
_REFUSAL = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))
_CONDITIONAL = re.compile(r"\b(?:if|when|whenever|unless|until|in case)\s+$")


def is_refusal(output: str) -> bool:
    text = normalize_typography(output)
    for m in _REFUSAL.finditer(text):
        if not _CONDITIONAL.search(text[max(0, m.start() - 12):m.start()]):
            return True
    return False
