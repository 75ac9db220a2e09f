"""Levers the logs can speak to: what a scenario may assume, measured instead of guessed.

In: `calls`. Out: per feature (and `*` for all traffic), each as a share with the calls it rests on
and where it comes from:
  * `exact_repeat_rate` — calls whose prompt repeats an earlier call's exactly (by
    `attributes.prompt_sha256`, where the source recorded the prompt), or that the gateway answered
    from its own cache (`attributes.cache_hit`, LiteLLM): a floor for a semantic cache's hit rate,
    since a semantic cache also answers every exact repeat;
  * `prompt_cache_read_share` — cache-read tokens / input tokens, as the provider billed them;
  * `prefix_reuse_share` — input that repeats an earlier request's prefix blocks (traces that
    record block hashes, e.g. Mooncake): what prompt caching could read;
  * `retry_overhead` — failed calls per successful one: the extra traffic retries already cost.

`Scenario` files may say `semantic_cache_hit_rate: logs` (the exact-repeat floor per feature) and
keep `prompt_cache.read_share: logs` / `retry_overhead: logs` (the default: as observed); every
projection lists its levers with `source: logs | scenario` (`lever_sources`).
"""

from __future__ import annotations


def observed_levers(con) -> dict[str, dict]:
    """{feature or '*': {lever: {value, calls, source}}} from the logs (vectorised, one scan)."""
    rows = con.execute(
        """
        WITH c AS (
            SELECT coalesce(feature, '(untagged)') AS feature, input_tokens, cache_read_tokens, status,
                   attributes ->> '$.prompt_sha256' AS prompt,
                   TRY_CAST(attributes ->> '$.cache_hit' AS BOOLEAN) AS cache_hit,
                   TRY_CAST(attributes ->> '$.prefix_reused_tokens' AS DOUBLE) AS reused, ts, call_id
            FROM calls
        ),
        r AS (
            SELECT *, CASE WHEN prompt IS NOT NULL THEN
                row_number() OVER (PARTITION BY prompt ORDER BY ts NULLS LAST, call_id) > 1 END AS repeat
            FROM c
        )
        SELECT g.feature,
            count(*) AS calls,
            count(*) FILTER (prompt IS NOT NULL) AS hashed,
            count(*) FILTER (repeat) AS repeats,
            count(cache_hit) AS gateway_calls,
            count(*) FILTER (cache_hit) AS gateway_hits,
            sum(input_tokens) AS input_tokens, sum(cache_read_tokens) AS cache_read_tokens,
            count(reused) AS reuse_calls, sum(reused) AS reused_tokens,
            sum(input_tokens) FILTER (reused IS NOT NULL) AS reuse_input_tokens,
            count(*) FILTER (status = 'error') AS errors
        FROM r, LATERAL (SELECT unnest([r.feature, '*']) AS feature) g
        GROUP BY g.feature
        """
    ).fetchall()
    out: dict[str, dict] = {}
    for (feature, calls, hashed, repeats, gw_calls, gw_hits, inp, cread, reuse_calls, reused, reuse_inp,
         errors) in rows:
        lv: dict[str, dict] = {}
        if hashed:
            lv["exact_repeat_rate"] = {"value": repeats / hashed, "calls": hashed,
                                       "source": "logs: repeated prompt hashes"}
        elif gw_calls:
            lv["exact_repeat_rate"] = {"value": gw_hits / gw_calls, "calls": gw_calls,
                                       "source": "logs: the gateway's cache hits (LiteLLM cache_hit)"}
        if inp:
            lv["prompt_cache_read_share"] = {"value": (cread or 0) / inp, "calls": calls,
                                             "source": "logs: cache-read tokens / input tokens"}
        if reuse_calls and reuse_inp:
            lv["prefix_reuse_share"] = {"value": (reused or 0) / reuse_inp, "calls": reuse_calls,
                                        "source": "logs: input repeating an earlier request's prefix blocks"}
        ok = calls - errors
        lv["retry_overhead"] = {"value": errors / ok if ok else None, "calls": calls,
                                "source": "logs: failed calls per successful call (already in the traffic)"}
        out[feature] = lv
    return out


def semantic_cache_from_logs(observed: dict[str, dict]) -> dict[str, float]:
    """`semantic_cache_hit_rate: logs`: each feature's exact-repeat floor (0 where the logs cannot say)."""
    rates = {f: lv["exact_repeat_rate"]["value"] for f, lv in observed.items()
             if f != "*" and "exact_repeat_rate" in lv}
    return {**rates, "*": 0.0}


def lever_sources(sc, observed: dict[str, dict]) -> list[dict]:
    """Each lever of `sc` with its value and whether it came from the logs or the scenario file,
    the logs' figure beside a value the file states (e.g. a semantic-cache rate below the floor)."""
    whole = observed.get("*", {})

    def logged(name):
        x = whole.get(name)
        return None if x is None else {"value": x["value"], "source": x["source"], "calls": x["calls"]}

    out = []
    sem = sc.semantic_cache_hit_rate
    floor = logged("exact_repeat_rate")
    if sem == "logs":
        out.append({"lever": "semantic cache hit rate", "value": "per feature, the exact-repeat floor",
                    "source": "logs", "logs": floor})
    else:
        note = None
        if floor and isinstance(sem, float) and sem < floor["value"]:
            note = f"below the {floor['value']:.1%} of calls that repeat exactly in the logs (a floor)"
        out.append({"lever": "semantic cache hit rate", "value": sem, "source": "scenario", "logs": floor,
                    "note": note})
    rs = sc.prompt_cache.read_share
    out.append({"lever": "prompt-cache read share", "value": rs,
                "source": "logs" if rs in ("logs", "prefix_reuse") else "scenario",
                "logs": logged("prefix_reuse_share" if rs == "prefix_reuse" else "prompt_cache_read_share")})
    out.append({"lever": "retry overhead", "value": sc.retry_overhead,
                "source": "logs" if sc.retry_overhead == "logs" else "scenario", "logs": logged("retry_overhead")})
    return out
