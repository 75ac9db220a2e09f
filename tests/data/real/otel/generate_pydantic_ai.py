"""Generate pydantic_ai.jsonl: pydantic-ai (Logfire-style GenAI instrumentation) spans as OTLP/JSON.

venv: pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-common 'pydantic-ai-slim[openai]'
run:  python generate_pydantic_ai.py   (writes pydantic_ai.jsonl beside this file)
Each agent run is its own trace: an 'invoke_agent' span (agent run) with one 'chat <model>' child
span per model request.  Runs pass conversation_id so gen_ai.conversation.id is recorded.
"""
import asyncio
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from openai_calls import make_async_client, PROMPT_CACHED, PROMPT_REASONING, PROMPT_STREAM  # noqa: E402
from otlp_json_exporter import make_provider  # noqa: E402
import replay_server  # noqa: E402

from pydantic_ai import Agent  # noqa: E402
from pydantic_ai.models.instrumented import InstrumentationSettings  # noqa: E402
from pydantic_ai.models.openai import OpenAIChatModel  # noqa: E402
from pydantic_ai.providers.openai import OpenAIProvider  # noqa: E402

provider, exporter = make_provider(os.path.join(HERE, "pydantic_ai.jsonl"), "workbench-fixture-pydantic-ai")
srv, base = replay_server.start()
settings = InstrumentationSettings(tracer_provider=provider)
Agent.instrument_all(settings)


def agent(model):
    # a fresh AsyncOpenAI per agent: run_sync and asyncio.run each use their own event loop
    oai = OpenAIProvider(openai_client=make_async_client(base))
    return Agent(OpenAIChatModel(model, provider=oai), name="fixture_agent")


agent("gpt-4o-mini").run_sync(PROMPT_CACHED, conversation_id="conv-fixture-001")
agent("gpt-5-nano").run_sync(
    PROMPT_REASONING, model_settings={"openai_reasoning_effort": "low"}, conversation_id="conv-fixture-001"
)


async def stream():
    async with agent("gpt-4").run_stream(PROMPT_STREAM, conversation_id="conv-fixture-002") as r:
        async for _ in r.stream_text(delta=True):
            pass


asyncio.run(stream())
try:
    agent("this-model-does-not-exist").run_sync(PROMPT_STREAM, conversation_id="conv-fixture-003")
except Exception as e:  # pydantic_ai.exceptions.ModelHTTPError
    print("expected error:", type(e).__name__, getattr(e, "status_code", None))
provider.shutdown()
srv.shutdown()
