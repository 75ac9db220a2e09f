"""Generate openai_v2.jsonl: official opentelemetry-instrumentation-openai-v2 spans as OTLP/JSON.

venv: pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-common openai opentelemetry-instrumentation-openai-v2
run:  python generate_openai_v2.py   (writes openai_v2.jsonl beside this file)
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from openai_calls import run_calls  # noqa: E402
from otlp_json_exporter import make_provider  # noqa: E402
import replay_server  # noqa: E402

from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor  # noqa: E402

provider, exporter = make_provider(os.path.join(HERE, "openai_v2.jsonl"), "workbench-fixture-openai-v2")
OpenAIInstrumentor().instrument(tracer_provider=provider)
srv, base = replay_server.start()
run_calls(base)
provider.shutdown()
srv.shutdown()
