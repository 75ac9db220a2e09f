"""Charts drawn beside the kernel: the drawing process, its failures, and the spec renderer."""

from __future__ import annotations

import os

import pytest

SPEC = {"$schema": "https://vega.github.io/schema/vega-lite/v6.4.1.json", "mark": "bar",
        "data": {"values": [{"a": "x", "b": 3}, {"a": "y", "b": 5}]},
        "encoding": {"x": {"field": "a", "type": "nominal"}, "y": {"field": "b", "type": "quantitative"}}}
MIME = "application/vnd.vegalite.v6+json"


def cell(*specs):
    return {"cell_type": "code", "outputs": [{"output_type": "display_data", "data": {MIME: s, "text/plain": "c"}}
                                             for s in specs]}


def test_the_drawing_process_draws_each_spec_as_its_cell_finishes():
    from workbench.report import svg

    drawer = svg.ChartDrawer()
    first, second = cell(SPEC), cell(SPEC, {**SPEC, "mark": "point"})
    drawer.on_cell_executed(cell=first, cell_index=0)
    drawer.on_cell_executed(cell=second, cell_index=1)
    assert drawer.finish() == 3
    svgs = [o["data"][svg.SVG] for c in (first, second) for o in c["outputs"]]
    assert all(s.lstrip().startswith("<svg") for s in svgs) and svgs[1] != svgs[2]
    assert svgs[0] == svg.draw(SPEC)  # the same drawing as in this process
    assert svg._drawing_process().proc.pid != os.getpid()
    assert drawer.finish() == 0  # nothing left over


def test_a_spec_the_process_cannot_draw_fails_with_the_real_error():
    from workbench.report import svg

    drawer = svg.ChartDrawer()
    drawer.on_cell_executed(cell=cell({"mark": {"type": "no-such-mark"}, "data": {"values": []}}))
    with pytest.raises(ValueError):
        drawer.finish()


def test_a_dead_drawing_process_is_replaced():
    from workbench.report import svg

    dead = svg._drawing_process().proc
    dead.kill()
    dead.wait()
    drawer = svg.ChartDrawer()
    c = cell(SPEC)
    drawer.on_cell_executed(cell=c)
    assert drawer.finish() == 1 and c["outputs"][0]["data"][svg.SVG].lstrip().startswith("<svg")
    assert svg._drawing_process().proc.pid != dead.pid


def test_spec_output_is_a_standard_vegalite_bundle():
    """Altair's own "mimetype" renderer names it ...v6.json, which nbformat will not save."""
    import altair as alt
    import pandas as pd

    from workbench.report import charts

    charts.use_output("spec")
    try:
        bundle = alt.Chart(pd.DataFrame({"a": [1, 2]})).mark_bar().encode(x="a:Q")._repr_mimebundle_()
    finally:
        charts.use_output("svg")
    assert set(bundle) == {MIME, "text/plain"} and bundle[MIME]["mark"] == {"type": "bar"}
    with pytest.raises(ValueError, match="chart output"):
        charts.use_output("png")
