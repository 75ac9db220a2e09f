"""The five OpenAI SDK calls every Python generator makes against the replay server."""
import openai

try:  # openai >= 3 ships on httpx2, older releases on httpx
    import httpx2 as httpx
except ImportError:
    import httpx

PUBLIC_BASE = "https://api.openai.com/v1"


def _loopback(base_url):
    u = httpx.URL(base_url)
    return u.host, u.port


class LoopbackTransport(httpx.HTTPTransport):
    """Send every request to the local replay server while the client keeps the public
    base URL https://api.openai.com/v1, so instrumentations record the real host
    (server.address, gen_ai.openai.api_base, llm.provider inferred from the host).
    Nothing leaves 127.0.0.1."""

    def __init__(self, base_url):
        super().__init__()
        self._host, self._port = _loopback(base_url)

    def handle_request(self, request):
        request.url = request.url.copy_with(scheme="http", host=self._host, port=self._port)
        return super().handle_request(request)


class AsyncLoopbackTransport(httpx.AsyncHTTPTransport):
    def __init__(self, base_url):
        super().__init__()
        self._host, self._port = _loopback(base_url)

    async def handle_async_request(self, request):
        request.url = request.url.copy_with(scheme="http", host=self._host, port=self._port)
        return await super().handle_async_request(request)


def make_client(base_url):
    return openai.OpenAI(
        base_url=PUBLIC_BASE, api_key="sk-replay-not-a-key", max_retries=0,
        http_client=httpx.Client(transport=LoopbackTransport(base_url)),
    )


def make_async_client(base_url):
    return openai.AsyncOpenAI(
        base_url=PUBLIC_BASE, api_key="sk-replay-not-a-key", max_retries=0,
        http_client=httpx.AsyncClient(transport=AsyncLoopbackTransport(base_url)),
    )

PROMPT_CACHED = "Summarize the OpenLLMetry launch article in three short bullet points."
PROMPT_REASONING = "Count r's in strawberry"
PROMPT_STREAM = "Say this is a test"
PROMPT_RESPONSES = "Write a bash script that prints the transpose of a matrix given as '[1,2],[3,4],[5,6]'."


def run_calls(base_url, calls=("cached", "reasoning", "stream", "404", "responses")):
    client = make_client(base_url)
    for c in calls:
        if c == "cached":
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT_CACHED}])
        elif c == "reasoning":
            client.chat.completions.create(
                model="gpt-5-nano", reasoning_effort="low", messages=[{"role": "user", "content": PROMPT_REASONING}]
            )
        elif c == "stream":
            stream = client.chat.completions.create(
                model="gpt-4",
                messages=[{"role": "user", "content": PROMPT_STREAM}],
                stream=True,
                stream_options={"include_usage": True},
            )
            for _ in stream:
                pass
        elif c == "responses":
            client.responses.create(
                model="gpt-5.4", reasoning={"effort": "low"}, max_output_tokens=300, input=PROMPT_RESPONSES
            )
        elif c == "404":
            try:
                client.chat.completions.create(
                    model="this-model-does-not-exist", messages=[{"role": "user", "content": PROMPT_STREAM}]
                )
            except openai.NotFoundError as e:
                print("expected 404:", e.status_code)
