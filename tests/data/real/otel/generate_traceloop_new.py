"""Generate traceloop_new.jsonl: openllmetry (Traceloop) opentelemetry-instrumentation-openai spans as OTLP/JSON.

venv: see SOURCES.md (traceloop_new.jsonl) for the exact pins
run:  python generate_traceloop_new.py   (writes traceloop_new.jsonl beside this file)
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from openai_calls import run_calls  # noqa: E402
from otlp_json_exporter import make_provider  # noqa: E402
import replay_server  # noqa: E402

from opentelemetry.instrumentation.openai import OpenAIInstrumentor  # noqa: E402

provider, exporter = make_provider(os.path.join(HERE, "traceloop_new.jsonl"), "workbench-fixture-traceloop-new")
OpenAIInstrumentor().instrument(tracer_provider=provider)
srv, base = replay_server.start()
run_calls(base)
provider.shutdown()
srv.shutdown()
