"""Generate traceloop_old.jsonl: openllmetry (Traceloop) opentelemetry-instrumentation-openai spans as OTLP/JSON.

venv: see SOURCES.md (traceloop_old.jsonl) for the exact pins
run:  python generate_traceloop_old.py   (writes traceloop_old.jsonl beside this file)
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from openai_calls import run_calls  # noqa: E402
from otlp_json_exporter import make_provider  # noqa: E402
import replay_server  # noqa: E402

from opentelemetry.instrumentation.openai import OpenAIInstrumentor  # noqa: E402

provider, exporter = make_provider(os.path.join(HERE, "traceloop_old.jsonl"), "workbench-fixture-traceloop-old")
OpenAIInstrumentor().instrument(tracer_provider=provider)
srv, base = replay_server.start()
run_calls(base)
provider.shutdown()
srv.shutdown()
