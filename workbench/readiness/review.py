"""The readiness review in a notebook: answer the checklist and see it re-scored as you go.

    from workbench import Workbench
    from workbench.readiness import review as R
    wb = Workbench("pilot.duckdb")
    with wb.connect() as con:               # the evidence probes run once, here (read-only)
        rv = R.open_review(con, answers="data/answers.yaml", answers_out="answers.yaml", record=wb)
    rv                                      # one row per item; verdict, scores and plan follow each change

The probes' evidence is gathered once, when the review opens; every change of an answer re-runs
`scoring.score` (pure Python, a few milliseconds) and redraws the verdict, the section scores and
the improvement plan. Choosing `na` shows the reason and approver fields the answers model
requires. "Save" validates the answers with the rules `workbench assess --answers` applies
(`checklist.validate_answers`) and writes the YAML that command reads; a problem is shown as a
message on the page, never a traceback. With `record` (a `Workbench`), a save also stores the
review in the database's history (`workbench assess --history`), holding the write lock only
for that insert.

`ReadinessReview` is an ipywidgets VBox: `rows[item_id].status.value = "met"` changes an answer
as a click would; `assessment` is the current `Assessment`; `save()` is the button.
"""

from __future__ import annotations

import html
import os
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Optional

import ipywidgets as W

from ..errors import WorkbenchError
from .checklist import NA_REASONS, STATUSES, Answer, Answers, Checklist, load_answers, load_checklist, validate_answers
from .scoring import Assessment, _status_words, run_probes, score

UNANSWERED = ""
_STATUS_LABELS = {"met": "met", "partial": "partial", "not_met": "not met", "na": "n/a"}
_OUTCOME_COLORS = {"met": "#2f7d4a", "partial": "#9a6b00", "not_met": "#b42318", "unknown": "#52606d", "na": "#52606d"}
_FIELDS = ("status", "evidence", "owner", "due", "reason", "reason_code", "approver", "notes")


def esc(value: Any) -> str:
    return "" if value is None else html.escape(str(value))


# ---------------------------------------------------------------------------------------------
# Which files
# ---------------------------------------------------------------------------------------------


def default_checklist() -> Path:
    from ..report.facts import DEFAULT_CHECKLIST

    return Path(DEFAULT_CHECKLIST)


def sample_answers() -> Path:
    from ..report.facts import DATA

    return Path(DATA) / "answers.yaml"


def resolve_answers(answers: str | os.PathLike | None = "",
                    answers_out: str | os.PathLike | None = "answers.yaml") -> tuple[Optional[Path], str]:
    """The answers file to start from, and why: `answers` when given; else `answers_out` when it
    exists (carry on where the last save left off); else the sample answers shipped with the sample
    pilot. (None, why) when there is none."""
    if answers and str(answers).strip():
        return Path(answers), "the answers you set"
    if answers_out and str(answers_out).strip() and Path(answers_out).is_file():
        return Path(answers_out), "your last save"
    sample = sample_answers()
    if sample.is_file():
        return sample, "the sample pilot's answers (set `answers` to start from yours)"
    return None, "no answers yet"


# ---------------------------------------------------------------------------------------------
# One row per item
# ---------------------------------------------------------------------------------------------


class _Shared:
    """Layout and style models shared by every row: a review of 37 items opens a few hundred
    widget models, not thousands (each is a message to the page, and papermill waits for them)."""

    def __init__(self):
        L = W.Layout
        self.label = L(width="350px", min_width="350px")
        self.inputs = L(flex_flow="row wrap", flex="1 1 0", align_items="flex-start")
        self.row = L(border_bottom="1px solid #e4e7eb", padding="4px 0 6px 0", flex="0 0 auto")
        self.status, self.owner, self.due = L(width="125px"), L(width="140px"), L(width="125px")
        self.evidence, self.notes = L(width="340px", height="44px"), L(width="196px")
        self.na = L(width="100%", flex_flow="row wrap")
        self.reason, self.code, self.approver = L(width="300px"), L(width="200px"), L(width="170px")
        from ipywidgets.widgets.widget_description import DescriptionStyle
        from ipywidgets.widgets.widget_string import HTMLStyle, TextStyle

        self.text, self.dropdown, self.html = TextStyle(), DescriptionStyle(), HTMLStyle()


_STATUS_OPTIONS = [("(unanswered)", UNANSWERED)] + [(_STATUS_LABELS.get(s, s), s) for s in STATUSES]
_CODE_OPTIONS = [("reason code (optional)", "")] + [(c.replace("_", " ").lower(), c) for c in NA_REASONS]


class ItemRow:
    """The controls of one checklist item: status, owner, due, evidence, notes; for `na` also its
    reason, reason code and approver (made the first time the item is set to n/a). `result` shows
    the item with what it scores now."""

    def __init__(self, item, prior: Optional[Answer], shared: _Shared):
        a = prior
        self.item_id, self.item, self._shared = item.id, item, shared
        self._prior = {k: (getattr(a, k, None) or "") for k in ("reason", "reason_code", "approver")}
        text = dict(continuous_update=False, style=shared.text)
        self.status = W.Dropdown(options=_STATUS_OPTIONS, value=a.status if a and a.status in STATUSES else UNANSWERED,
                                 layout=shared.status, style=shared.dropdown)
        self.owner = W.Text(value=(a.owner if a else None) or "", placeholder="owner", layout=shared.owner, **text)
        self.due = W.Text(value=a.due.isoformat() if a and a.due else "", placeholder="due YYYY-MM-DD",
                          layout=shared.due, **text)
        self.evidence = W.Textarea(value="\n".join(a.evidence_list() if a else []), layout=shared.evidence,
                                   placeholder="evidence: one link or document per line", **text)
        self.notes = W.Text(value=(a.notes if a else None) or "", placeholder="notes", layout=shared.notes, **text)
        self.result = W.HTML(layout=shared.label, style=shared.html)
        self.result.add_class("wb-review-result")
        self._na: Optional[W.HBox] = None
        self.inputs = W.HBox([self.status, self.owner, self.due, self.evidence, self.notes], layout=shared.inputs)
        self.box = W.HBox([self.result, self.inputs], layout=shared.row)
        self.box.add_class("wb-review-item")
        self.show_na()

    @property
    def controls(self) -> list:
        return [self.status, self.owner, self.due, self.evidence, self.notes]

    @property
    def na_box(self) -> W.HBox:
        """The n/a fields (made on first use)."""
        if self._na is None:
            sh, text = self._shared, dict(continuous_update=False, style=self._shared.text)
            self.reason = W.Text(value=self._prior["reason"], placeholder="why it does not apply (required)",
                                 layout=sh.reason, **text)
            self.reason_code = W.Dropdown(options=_CODE_OPTIONS, layout=sh.code, style=sh.dropdown,
                                          value=self._prior["reason_code"] if self._prior["reason_code"] in NA_REASONS else "")
            self.approver = W.Text(value=self._prior["approver"], placeholder="approved by (required)",
                                   layout=sh.approver, **text)
            self._na = W.HBox([W.HTML("<span style='font-size:12px;color:#52606d;white-space:nowrap;"
                                      "line-height:28px'>not applicable:&nbsp;</span>", style=sh.html),
                               self.reason, self.reason_code, self.approver], layout=sh.na)
            self._na.add_class("wb-review-na")
            for w in (self.reason, self.reason_code, self.approver):
                w.observe(self._on_na, names="value")
        return self._na

    def _on_na(self, _change) -> None:
        if self.on_change:
            self.on_change(None)

    on_change = None  # set by the review: called after any change of this row

    def show_na(self) -> None:
        """The n/a fields are on the row while its status is n/a."""
        want = self.status.value == "na"
        base = tuple(self.controls)
        children = base + ((self.na_box,) if want else ())
        if self.inputs.children != children:
            self.inputs.children = children

    def _na_value(self, key: str) -> str:
        return (getattr(self, key).value or "").strip() if self._na is not None else str(self._prior[key]).strip()

    def entry(self) -> Optional[dict]:
        """The answer as the YAML holds it (strings as typed), or None when unanswered."""
        if self.status.value == UNANSWERED:
            return None
        ev = [line.strip() for line in self.evidence.value.splitlines() if line.strip()]
        e: dict = {"status": self.status.value}
        if ev:
            e["evidence"] = ev[0] if len(ev) == 1 else ev
        for key in ("owner", "due", "notes"):
            v = getattr(self, key).value.strip()
            if v:
                e[key] = v
        if self.status.value == "na":
            for key in ("reason", "reason_code", "approver"):
                v = self._na_value(key)
                if v:
                    e[key] = v
        return e

    def answer(self) -> Optional[Answer]:
        """The answer for scoring, unvalidated: an `na` still missing its reason scores as n/a
        (the save refuses it until it has one); a due date that is not a date is left out."""
        e = self.entry()
        if e is None:
            return None
        due = None
        if "due" in e:
            try:
                due = date.fromisoformat(e["due"])
            except ValueError:
                pass
        return Answer.model_construct(**{**dict.fromkeys(_FIELDS), **e, "due": due})


def _label_html(item) -> str:
    sev = {"high": "#b42318", "medium": "#9a6b00", "low": "#52606d"}[item.severity]
    return (f"<b>{esc(item.id)}</b> {esc(item.title)} "
            f"<span style='color:{sev};font-size:11.5px'>{esc(item.severity)}</span>"
            f"<div style='color:#52606d;font-size:11.5px' title='{esc(item.why)}'>{esc(_short(item.guidance))}</div>")


def _short(text: str, n: int = 150) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0].rstrip(",;:.") + " …"


def _result_html(item, r) -> str:
    """The item, what it scores now, and what the logs say about it."""
    color = _OUTCOME_COLORS.get(r.outcome, "#52606d")
    grade = {1.0: "evidence from the logs", 0.5: "attested"}.get(r.evidence_grade, "")
    parts = [f"<span style='color:{color};font-weight:600'>{esc(_status_words(r.outcome))}</span>"
             + (f" <span style='color:#52606d'>({grade})</span>" if grade else "")]
    if r.contradiction:
        parts.append(f"<span style='color:#b42318'>the logs disagree: {esc(r.contradiction)}</span>")
    elif r.note:
        parts.append(esc(r.note))
    elif r.outcome == "na":
        parts.append("left out of the score")
    elif r.finding:
        parts.append(f"logs: {esc(r.finding)}")
    return (f"<div style='line-height:1.3;font-size:12.5px;padding-right:8px'>{_label_html(item)}"
            f"<div style='font-size:11.5px;margin-top:2px'>{' &middot; '.join(parts)}</div></div>")


# ---------------------------------------------------------------------------------------------
# The headline: verdict and section bars (inline SVG, redrawn on every change)
# ---------------------------------------------------------------------------------------------


def section_bars_svg(sections: list[dict], width: int = 330) -> str:
    """Section scores as horizontal bars (the light bar behind: the attainable score). Plain SVG:
    nothing to fetch, nothing to run, cheap enough to redraw on every change."""
    label_w, bar_w, row_h = 130, width - 130 - 44, 22
    rows = []
    for i, s in enumerate(sections):
        y = 22 + i * row_h
        sc, at = s.get("score"), s.get("attainable")
        color = "#52606d" if sc is None else "#c73e1d" if sc < 50 else "#e0a458" if sc < 75 else "#3b8b5a"
        rows.append(
            f"<text x='{label_w - 6}' y='{y + 14}' text-anchor='end' font-size='11.5'>{esc(s.get('title') or s['id'])[:20]}</text>"
            f"<rect x='{label_w}' y='{y + 3}' width='{bar_w * (at or 0) / 100:.1f}' height='14' fill='#e4e7eb'/>"
            f"<rect x='{label_w}' y='{y + 3}' width='{bar_w * (sc or 0) / 100:.1f}' height='14' fill='{color}'/>"
            f"<text x='{label_w + bar_w + 4}' y='{y + 14}' font-size='11.5'>{'n/a' if sc is None else f'{sc:.0f}%'}</text>")
    h = 22 + row_h * len(sections) + 6
    return (f"<svg xmlns='http://www.w3.org/2000/svg' class='wb-review-bars' width='{width}' height='{h}' "
            f"viewBox='0 0 {width} {h}' role='img' aria-label='Readiness by section' "
            f"font-family='Helvetica, Arial, sans-serif' fill='#1f2933'>"
            f"<text x='0' y='14' font-size='13'>Readiness by section</text>{''.join(rows)}</svg>")


def headline_html(a: Assessment) -> str:
    from ..report.sections import _verdict_class, wrap

    o = a.overall
    pct = (lambda v: "n/a" if v is None else f"{v:.0f}%")
    reasons = "".join(f"<li>{esc(r)}</li>" for r in a.verdict_reasons[:4])
    more = f"<li>and {len(a.verdict_reasons) - 4} more</li>" if len(a.verdict_reasons) > 4 else ""
    return wrap(
        f"<div class='wb-review-headline'>"
        f"<p style='margin:0 0 4px'>Verdict: <span class='wb-badge {_verdict_class(a.verdict)} wb-review-verdict'>"
        f"{esc(a.verdict)}</span></p><ul class='wb-note' style='margin:0 0 6px 18px;padding:0'>{reasons}{more}</ul>"
        f"<p class='wb-note' style='margin:0 0 6px'>score <b class='wb-review-score'>{pct(o['vs_attainable'])}</b> "
        f"of attainable ({pct(o['weighted'])} weighted of {pct(o['attainable'])}); weakest "
        f"{esc(o['weakest_section'])} {pct(o['weakest'])}; open high-severity {o['open_high']}; "
        f"{o['unknown']} unanswered; {o['contradictions']} contradicted by the logs</p>"
        f"{section_bars_svg(a.sections)}</div>")


# ---------------------------------------------------------------------------------------------
# The review
# ---------------------------------------------------------------------------------------------


class ReadinessReview(W.VBox):
    """The checklist as a form, scored live against evidence gathered once (see the module docstring)."""

    def __init__(self, checklist: Checklist, answers: Optional[Answers], probes: dict, data: dict,
                 answers_out: str | os.PathLike = "answers.yaml", record=None, source: str = "",
                 answers_path: Optional[str] = None, load_error: str = ""):
        self.checklist, self.probes, self.data_info, self.record = checklist, probes, data, record
        self.base = answers
        self.answers_path = answers_path
        prior = answers.answers if answers else {}
        self.rows: dict[str, ItemRow] = {}
        form, shared = [], _Shared()
        heading = W.Layout(flex="0 0 auto")
        for section in checklist.sections:
            gate = " <span class='wb-note'>(gate: a high-severity item not met here means not ready)</span>" if section.gate else ""
            form.append(W.HTML(f"<h3 style='margin:12px 0 4px'>{esc(section.title)}{gate}</h3>", layout=heading,
                               style=shared.html))
            for item in section.items:
                row = ItemRow(item, prior.get(item.id), shared)
                self.rows[item.id] = row
                form.append(row.box)
        self.headline = W.HTML(layout=W.Layout(width="360px", min_width="340px"))
        self.headline.add_class("wb-review-live")
        self.details = W.HTML()
        self.details.add_class("wb-review-details")
        self.problems = W.HTML()
        self.message = W.HTML()
        self.message.add_class("wb-review-message")
        self.out_path = W.Text(value=str(answers_out or "answers.yaml"), description="Save to",
                               layout=W.Layout(width="480px"))
        self.save_button = W.Button(description="Save answers", button_style="primary")
        self.save_button.on_click(self.save)
        start = (f"Started from {esc(source)}: <code>{esc(answers_path)}</code>." if answers_path
                 else f"Started with no answers ({esc(source)}).")
        intro = W.HTML(f"<div class='wb'><p style='margin:0'><b>{esc(checklist.title)}</b> "
                       f"<span class='wb-note'>v{esc(checklist.version)} &middot; {len(self.rows)} items &middot; "
                       f"{start} Change an answer: the verdict, the scores and the plan follow.</span></p></div>")
        if load_error:
            self.message.value = _error_html("Could not load the answers; starting without them", load_error)
        form_box = W.VBox(form, layout=W.Layout(max_height="640px", overflow="auto", flex="1 1 760px", padding="0 8px 0 0"))
        super().__init__([intro, W.HBox([form_box, self.headline], layout=W.Layout(flex_flow="row wrap", grid_gap="12px")),
                          self.problems, W.HBox([self.out_path, self.save_button]), self.message, self.details])
        self.add_class("wb-review")
        self.assessment: Optional[Assessment] = None
        for row in self.rows.values():
            row.on_change = self._changed
            for w in row.controls:
                w.observe(self._changed, names="value")
        self.rescore()

    # -- building ----------------------------------------------------------------------------
    @classmethod
    def from_db(cls, con, checklist: str | os.PathLike | Checklist | None = "", answers: str | os.PathLike | None = "",
                answers_out: str | os.PathLike = "answers.yaml", record=None) -> "ReadinessReview":
        """Load the checklist and the answers (see `resolve_answers`), gather the evidence on `con`
        (read-only is enough) and build the review. A bad checklist raises WorkbenchError; bad
        answers open the review without them, saying why."""
        from .scoring import _data_fingerprint

        cl = checklist if isinstance(checklist, Checklist) else load_checklist(
            checklist if checklist and str(checklist).strip() else default_checklist())
        path, source = resolve_answers(answers, answers_out)
        ans, error = None, ""
        if path is not None:
            try:
                ans = load_answers(path, cl)
            except WorkbenchError as exc:
                error, path = str(exc), None
        probes = run_probes(con, (it.probe for _, it in cl.items))
        return cls(cl, ans, probes, _data_fingerprint(con), answers_out, record, source,
                   str(path) if path else None, error)

    # -- state -------------------------------------------------------------------------------
    def data(self) -> dict:
        """The answers document as the form holds it (what Save validates and writes)."""
        doc: dict = {"checklist": self.checklist.id}
        if self.base and self.base.answered_by:
            doc["answered_by"] = self.base.answered_by
        doc["answered_on"] = date.today().isoformat()
        doc["answers"] = {i: e for i, e in ((i, r.entry()) for i, r in self.rows.items()) if e is not None}
        return doc

    def answers(self) -> Answers:
        """The answers for scoring (unvalidated; see `ItemRow.answer`)."""
        return Answers.model_construct(checklist=self.checklist.id, answered_by=None, answered_on=None,
                                       answers={i: a for i, a in ((i, r.answer()) for i, r in self.rows.items()) if a})

    def problems_list(self) -> list[str]:
        """What Save would refuse, one line per problem (empty: the answers are valid)."""
        try:
            validate_answers(self.data(), self.checklist, source="answers")
        except WorkbenchError as exc:
            return [line.removeprefix("answers: ") for line in str(exc).splitlines()]
        return []

    def _assessment(self, answers: Answers, path: Optional[str] = None, digest: Optional[str] = None) -> Assessment:
        from .. import __version__

        s = score(self.checklist, answers, self.probes)
        cl = self.checklist
        return Assessment(
            checklist={"id": cl.id, "version": cl.version, "title": cl.title, "hash": cl.hash, "path": cl._path,
                       "scoring": cl.scoring.model_dump()},
            answers={"path": path, "hash": digest,
                     "answered": sum(1 for r in s["items"] if r.answer_status != "unanswered")},
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            verdict=s["verdict"], verdict_reasons=s["verdict_reasons"], overall=s["overall"],
            sections=s["sections"], items=s["items"], plan=s["plan"],
            probes={k: v.as_dict() for k, v in self.probes.items()},
            data={**self.data_info, "workbench_version": __version__})

    # -- live --------------------------------------------------------------------------------
    def _changed(self, change=None) -> None:
        owner = change.get("owner") if change else None
        for row in self.rows.values():
            if owner is row.status:
                row.show_na()
        self.rescore()

    def rescore(self) -> Assessment:
        """Score the answers on the form against the evidence gathered at opening, and redraw."""
        from ..report.sections import readiness_html

        a = self._assessment(self.answers(), self.answers_path)
        self.assessment = a
        for r in a.items:
            row = self.rows[r.id]
            html_ = _result_html(row.item, r)
            if row.result.value != html_:
                row.result.value = html_
        self.headline.value = headline_html(a)
        self.details.value = readiness_html({**a.as_dict(), "status": "assessed"})
        probs = self.problems_list()
        self.problems.value = ("" if not probs else
                               _error_html("To fix before saving", "\n".join(probs), kind="warn"))
        return a

    # -- saving ------------------------------------------------------------------------------
    def save(self, _button=None) -> Optional[Path]:
        """Validate and write the answers YAML; the result (or what to fix) is shown in `message`."""
        import yaml

        path = Path(os.path.expanduser(self.out_path.value.strip() or "answers.yaml"))
        try:
            ans = validate_answers(self.data(), self.checklist, source=path.name)
        except WorkbenchError as exc:
            self.message.value = _error_html(f"Not saved: fix these first ({path})", str(exc))
            return None
        doc = {"checklist": ans.checklist, "answered_by": ans.answered_by, "answered_on": ans.answered_on,
               "answers": {i: a.model_dump(exclude_none=True) for i, a in ans.answers.items()}}
        doc = {k: v for k, v in doc.items() if v is not None}
        text = ("# Readiness answers, written by the review notebook (workbench.readiness.review).\n"
                f"# Score them from a terminal: workbench assess --answers {path}\n"
                + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            self.message.value = _error_html(f"Not saved: could not write {path}", exc.strerror or str(exc))
            return None
        self.answers_path = str(path)
        db = getattr(self.record, "path", None)
        cmd = f"workbench assess --answers {path.resolve()}" + (f" --db {db}" if db else "")
        msg = (f"Saved {len(ans.answers)} answers to <code>{esc(path.resolve())}</code>. "
               f"From a terminal: <code>{esc(cmd)}</code>")
        if self.record is not None:
            msg += "<br>" + self._record(ans, path)
        self.message.value = f"<div class='wb-review-saved' style='color:#2f7d4a'>{msg}</div>"
        return path

    def _record(self, ans: Answers, path: Path) -> str:
        """Store the review in the database's history (a short write)."""
        from .history import save_assessment

        a = self._assessment(ans, str(path), ans.hash)
        try:
            with self.record.connect(write=True) as con:  # the evidence (and its fingerprint) is from opening
                aid = save_assessment(con, a)
        except Exception as exc:  # the YAML is saved; the history entry is a nicety
            return (f"<span style='color:#9a6b00'>Not recorded in the database's history: "
                    f"{esc(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)}</span>")
        return f"Recorded as assessment {aid} (<code>workbench assess --history</code>): {esc(a.verdict)}."


def _error_html(title: str, text: str, kind: str = "bad") -> str:
    color = "#b42318" if kind == "bad" else "#9a6b00"
    lines = "".join(f"<li>{esc(line)}</li>" for line in str(text).splitlines() if line.strip())
    return (f"<div class='wb-review-{'error' if kind == 'bad' else 'warning'}' style='color:{color};font-size:12.5px'>"
            f"<b>{esc(title)}</b><ul style='margin:2px 0 0 18px;padding:0'>{lines}</ul></div>")


def open_review(con, checklist: str | os.PathLike | None = "", answers: str | os.PathLike | None = "",
                answers_out: str | os.PathLike = "answers.yaml", record=None):
    """`ReadinessReview.from_db`, or an HTML widget saying why not (a bad checklist): for notebooks."""
    try:
        return ReadinessReview.from_db(con, checklist, answers, answers_out, record)
    except WorkbenchError as exc:
        return W.HTML(_error_html("The readiness review could not open", str(exc)))
