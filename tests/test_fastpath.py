"""The fast path for clean JSONL (typed read_json) and the rowid line numbering of the general path.

Every adapter test already runs through all three ways in (see the `ingest` fixture); these
tests pin what is particular to the fast path: that it reads exactly what json_extract_string
reads, that it steps aside whenever a record needs the general path, and that line numbers
stay exact on files large enough to be scanned in parallel.
"""

import json

import duckdb
import pytest
from conftest import rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_openai import chat

from workbench.ingest import fastpath
from workbench.ingest.adapters.base import sql_str


def reader_of(con, ingest_id):
    (opts,) = con.execute("SELECT options FROM ingests WHERE ingest_id = ?", [ingest_id]).fetchone()
    return json.loads(opts)["reader"]


def test_parse_path_handles_keys_quoted_keys_and_indexes():
    assert fastpath.parse_path('$.a."b.c"[0].d') == ["a", "b.c", 0, "d"]
    for bad in ("$", "$[0]", "a.b", "$.a[*]", "$.a..b"):
        with pytest.raises(fastpath.Unsupported):
            fastpath.parse_path(bad)


def test_a_field_wanted_whole_and_dug_into_is_read_as_json():
    fs = fastpath.FieldSet()
    for p in ("$.usage.prompt_tokens", "$.metadata", "$.metadata.feature", "$.choices[0].finish_reason"):
        fs.add(p)
    cols = fs.columns_sql()
    assert "'metadata': 'JSON'" in cols
    assert "'usage': 'STRUCT(\"prompt_tokens\" VARCHAR)'" in cols
    assert "'choices': 'STRUCT(\"finish_reason\" VARCHAR)[]'" in cols
    assert fs.value_sql("$.metadata.feature") == ('"metadata"', '$."feature"')
    assert fs.value_sql("$.choices[0].finish_reason") == ("struct_extract(\"choices\"[1], 'finish_reason')", None)


def test_the_openai_chat_adapter_takes_the_fast_path():
    from workbench.ingest.adapters import by_name

    assert fastpath.fast_select(by_name("openai_chat").select) is not None
    assert fastpath.fast_select("SELECT * FROM records") is None  # no extraction: nothing to swap


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "c.d", "E"]), inner, max_size=3),
    max_leaves=12,
)
records = st.dictionaries(st.sampled_from(["a", "b", "c.d", "E"]), json_values, min_size=1, max_size=4)
paths = st.lists(
    st.lists(st.sampled_from(["a", "b", "c.d", "E", 0, 1]), min_size=1, max_size=3).filter(lambda p: isinstance(p[0], str)),
    min_size=1, max_size=6, unique_by=lambda p: tuple(map(str, p)),
)


def as_path(steps):
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f'."{s}"' for s in steps)


def _same_number(v):
    """A JSON number may be spelt differently by the two readers (`1e+16` from read_json's VARCHAR
    cast, `10000000000000000.0` from json_extract_string): the same number, the same value for
    every column it feeds (token counts and costs are cast to numbers; ids are strings in every
    real export). Compare numbers as numbers, anything else as text."""
    if isinstance(v, str):
        try:
            return ("number", float(v))
        except ValueError:
            return v
    return v


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(records, min_size=1, max_size=5), paths)
def test_fast_fields_equal_json_extract_string(tmp_path_factory, recs, steps):
    """Whatever the records and paths: the typed read_json gives what json_extract_string gives,
    or raises (a value of another shape than another record's), which sends the file down the
    general path."""
    wanted = {f"f{i}": as_path(s) for i, s in enumerate(steps)}
    path = tmp_path_factory.mktemp("fp") / "r.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    fs = fastpath.FieldSet()
    for p in wanted.values():
        fs.add(p)
    con = duckdb.connect()
    plist = ", ".join(sql_str(p) for p in wanted.values())
    expected = con.execute(
        f"SELECT json_extract_string(column0, [{plist}]) FROM read_csv({sql_str(str(path))}, columns = {{'column0': 'VARCHAR'}}, "
        "header = false, delim = '\x1e', quote = '', escape = '', auto_detect = false)"
    ).fetchall()
    try:
        con.execute(f"CREATE TEMP VIEW json_fields AS {fastpath.json_fields_sql(sql_str(str(path)), fs)}")
        got = con.execute(f"SELECT * EXCLUDE (line, raw, j) FROM ({fs.select_sql(wanted)})").fetchall()
    except duckdb.Error:
        return  # the general path reads this file
    assert [[_same_number(v) for v in r] for r in got] == [[_same_number(v) for v in r[0]] for r in expected]


def test_clean_file_goes_straight_in_and_a_second_one_through_staging(con, write_jsonl):
    from workbench.ingest.pipeline import ingest_file

    a = ingest_file(con, write_jsonl([chat(id=f"a{i}") for i in range(3)], "a.jsonl"))
    b = ingest_file(con, write_jsonl([chat(id=f"a{i}") for i in range(2, 6)], "b.jsonl"))
    assert (a.rows_read, a.rows_accepted, reader_of(con, a.ingest_id)) == (3, 3, "read_json")
    assert (b.rows_read, b.rows_accepted, b.rows_duplicate, reader_of(con, b.ingest_id)) == (4, 3, 1, "read_json")
    assert a.sha256 and a.sha256 == rows(con, f"SELECT sha256 FROM ingests WHERE ingest_id = {a.ingest_id}")[0]["sha256"]


def test_gzipped_clean_jsonl_takes_the_fast_path(con, write_jsonl):
    from workbench.ingest.pipeline import ingest_file

    r = ingest_file(con, write_jsonl([chat(id=f"z{i}", prompt=100 + i) for i in range(4)], "calls.jsonl.gz"))
    assert (r.rows_read, r.rows_accepted, reader_of(con, r.ingest_id)) == (4, 4, "read_json")
    assert rows(con, "SELECT sum(input_tokens) AS t FROM calls")[0]["t"] == 406


@pytest.mark.parametrize("bad, reason", [
    ('{"id": "x", ', "malformed JSON"),
    (json.dumps(chat(id="neg", prompt=-5)), "negative input tokens: -5"),
    (json.dumps({**chat(id="fr"), "usage": {"prompt_tokens": 1.5, "completion_tokens": 2}}), "fractional input tokens: 1.5"),
    (json.dumps({**chat(), "id": None}), None),  # no id of its own: the general path hashes the raw line
    (json.dumps({**chat(id="s"), "usage": "n/a"}), "missing token counts"),
])
def test_a_record_the_fast_path_cannot_take_sends_the_file_down_the_line_path(con, write_jsonl, bad, reason):
    from workbench.ingest.pipeline import ingest_file

    records = [chat(id="c1"), "", bad, chat(id="c2"), chat(id="c1")]
    r = ingest_file(con, write_jsonl(records))
    assert reader_of(con, r.ingest_id) == "lines"
    assert r.rows_read == r.rows_accepted + r.rows_duplicate + r.rows_quarantined == 4
    assert r.rows_duplicate == 1
    q = rows(con, "SELECT line, reason, raw FROM quarantine")
    if reason is None:
        assert not q and r.rows_accepted == 3
    else:
        assert [(x["line"], x["raw"]) for x in q] == [(3, bad)] and q[0]["reason"].startswith(reason)
    assert not rows(con, "SELECT * FROM duckdb_tables() WHERE temporary")  # nothing of either attempt remains


def test_line_numbers_are_exact_on_a_file_scanned_in_parallel(con, tmp_path):
    """300,000 lines (several row groups, both threads) with blank and bad lines scattered:
    each quarantined record names its own line."""
    from workbench.ingest.pipeline import ingest_file

    bad_at = {7, 122_881, 150_000, 245_760, 299_999}
    blank_at = {3, 122_880, 200_000}
    base = json.dumps(chat(id="ID"))
    path = tmp_path / "big.jsonl"
    with open(path, "w") as fh:
        for n in range(1, 300_001):
            if n in blank_at:
                fh.write("\n" if n % 2 else "   \n")
            elif n in bad_at:
                fh.write(f'{{"broken": {n}\n')
            else:
                fh.write(base.replace('"ID"', f'"c{n}"') + "\n")
    con.execute("SET threads = 2")
    r = ingest_file(con, path)
    assert (r.rows_read, r.rows_quarantined, r.rows_accepted) == (300_000 - 3, 5, 300_000 - 8)
    q = rows(con, "SELECT line, raw FROM quarantine ORDER BY line")
    assert [x["line"] for x in q] == sorted(bad_at)
    assert all(x["raw"] == f'{{"broken": {x["line"]}' for x in q)
