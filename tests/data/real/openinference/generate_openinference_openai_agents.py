"""Generate openinference_openai_agents.jsonl: openinference-instrumentation-openai-agents spans as OTLP/JSON.

venv: pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-common openai httpx openai-agents \
          openinference-instrumentation-openai-agents
run:  python generate_openinference_openai_agents.py   (writes openinference_openai_agents.jsonl beside this file)
An openai-agents Agent (default OpenAIResponsesModel -> POST /v1/responses) is run twice against the
replay server: once inside using_session("oi-agents-sess-1") + using_user("oi-user-7") with model
gpt-5.4 (replayed Responses API body), once with model this-model-does-not-exist (replayed 404).
The agents SDK's own exporter to the OpenAI tracing backend is disabled (exclusive_processor=True
is the instrumentor's default and replaces it), so nothing is sent anywhere but the OTLP/JSON file.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "otel"))
from openai_calls import make_async_client  # noqa: E402
from otlp_json_exporter import make_provider  # noqa: E402
import replay_server  # noqa: E402

from agents import Agent, Runner, set_default_openai_client  # noqa: E402
from openinference.instrumentation import using_session, using_user  # noqa: E402
from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor  # noqa: E402

provider, exporter = make_provider(
    os.path.join(HERE, "openinference_openai_agents.jsonl"), "workbench-fixture-openinference-openai-agents"
)
OpenAIAgentsInstrumentor().instrument(tracer_provider=provider)
srv, base = replay_server.start()
PROMPT = "Write a bash script that prints the transpose of a matrix given as '[1,2],[3,4],[5,6]'."

set_default_openai_client(make_async_client(base), use_for_tracing=False)
with using_session("oi-agents-sess-1"), using_user("oi-user-7"):
    Runner.run_sync(Agent(name="Bash helper", instructions="Answer with a bash script.", model="gpt-5.4"), PROMPT)
set_default_openai_client(make_async_client(base), use_for_tracing=False)
try:
    Runner.run_sync(Agent(name="Bash helper", instructions="Answer with a bash script.", model="this-model-does-not-exist"), PROMPT)
except Exception as e:  # openai.NotFoundError
    print("expected error:", type(e).__name__, getattr(e, "status_code", None))
provider.shutdown()
srv.shutdown()
