"""JUnit XML for CI (`workbench eval --junit FILE`): one <testsuite> per run (suite x model x
prompt), one <testcase> per golden case and one for the run's gate.

A case without an answer is an <error> (type and attempts in the message); a case below a
scorer's threshold is a <failure> naming the scorers, its score and, when there is a baseline,
whether it regressed or was failing there too; the gate's <testcase> fails with the gate's reason.
The exit code of `workbench eval` is the gate's verdict: a case failing in the baseline too does not
fail the build unless the gate says so.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path


def _scorer_failures(con, run_id: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for cid, scorer, score, thr, detail in con.execute(
            "SELECT case_id, scorer, score, threshold, detail FROM eval_scores WHERE run_id = ? AND passed = false "
            "ORDER BY case_id, scorer", [run_id]).fetchall():
        out.setdefault(cid, []).append(f"{scorer} {score:.3f} < {thr:g}" + (f" ({detail})" if detail else ""))
    return out


def junit_xml(con, report) -> ET.Element:
    root = ET.Element("testsuites", name=f"workbench eval {report.suite}")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for run in report.runs:
        label = f"{report.suite}.{run.model}" + (f".{run.prompt_version}" if run.prompt_version else "")
        rows = con.execute(
            "SELECT case_id, passed, score, error, error_type, attempts, latency_ms, output FROM eval_results "
            "WHERE run_id = ? ORDER BY case_id", [run.run_id]).fetchall()
        fails = _scorer_failures(con, run.run_id)
        gate = run.gate
        base = {}
        if gate and gate.baseline_run_id:
            base = dict(con.execute("SELECT case_id, passed FROM eval_results WHERE run_id = ?",
                                    [gate.baseline_run_id]).fetchall())
        regressed = {r["case_id"]: r for r in (gate.regressed if gate else [])}
        suite_el = ET.SubElement(root, "testsuite", name=label, id=run.run_id)
        counts = {"tests": 0, "failures": 0, "errors": 0}
        for cid, passed, score, error, etype, attempts, latency, output in rows:
            counts["tests"] += 1
            tc = ET.SubElement(suite_el, "testcase", classname=label, name=str(cid),
                               time=f"{(latency or 0) / 1000:.3f}")
            if error is not None:
                counts["errors"] += 1
                el = ET.SubElement(tc, "error", type=etype or "other",
                                   message=f"{etype or 'other'} after {attempts} attempt(s): {error}"[:1000])
                el.text = error
            elif passed is False:
                counts["failures"] += 1
                why = "; ".join(fails.get(cid, [])) or "below threshold"
                if cid in regressed:
                    r = regressed[cid]
                    why += f"; regressed {r['baseline']:.3f} -> {r['current']:.3f} vs {gate.baseline_run_id}"
                elif base.get(cid) is False:
                    why += f"; failing in baseline {gate.baseline_run_id} too"
                el = ET.SubElement(tc, "failure", type="score", message=why[:1000])
                el.text = f"score {score if score is not None else float('nan'):.3f}\noutput: {(output or '')[:2000]}"
        if gate is not None:
            counts["tests"] += 1
            tc = ET.SubElement(suite_el, "testcase", classname=label, name="gate")
            if not run.passed:
                counts["failures"] += 1
                el = ET.SubElement(tc, "failure", type="gate", message=gate.reason[:1000])
                el.text = "\n".join([gate.reason, *gate.warnings,
                                     *(f"failing slice: {s}" for s in gate.failing_slices),
                                     *(f"regressed: {r['case_id']} {r['baseline']:.3f} -> {r['current']:.3f}"
                                       for r in gate.regressed[:50])])
            elif gate.warnings:
                ET.SubElement(tc, "system-out").text = "\n".join(gate.warnings)
        for k, v in counts.items():
            suite_el.set(k, str(v))
            totals[k] += v
    for k, v in totals.items():
        root.set(k, str(v))
    return root


def write_junit(con, report, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = ET.ElementTree(junit_xml(con, report))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path
