"""Generate openinference_openai.jsonl: openinference-instrumentation-openai spans as OTLP/JSON.

venv: pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-common openai httpx \
          openinference-instrumentation-openai
run:  python generate_openinference_openai.py   (writes openinference_openai.jsonl beside this file)
Uses ../otel/replay_server.py, ../otel/openai_calls.py and ../otel/otlp_json_exporter.py.
Calls 1-2 run inside using_session("oi-sess-001") + using_user("oi-user-7"); the stream call inside
using_session("oi-sess-002") + using_user("oi-user-7"); the 404 and Responses calls outside any context.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "otel"))
from openai_calls import run_calls  # noqa: E402
from otlp_json_exporter import make_provider  # noqa: E402
import replay_server  # noqa: E402

from openinference.instrumentation import using_session, using_user  # noqa: E402
from openinference.instrumentation.openai import OpenAIInstrumentor  # noqa: E402

provider, exporter = make_provider(os.path.join(HERE, "openinference_openai.jsonl"), "workbench-fixture-openinference-openai")
OpenAIInstrumentor().instrument(tracer_provider=provider)
srv, base = replay_server.start()
with using_session("oi-sess-001"), using_user("oi-user-7"):
    run_calls(base, calls=("cached", "reasoning"))
with using_session("oi-sess-002"), using_user("oi-user-7"):
    run_calls(base, calls=("stream",))
run_calls(base, calls=("404", "responses"))
provider.shutdown()
srv.shutdown()
