"""A small, deterministic OpenAI-compatible chat server on 127.0.0.1 (tests and the offline demo).

    with StubServer() as stub:           # port 0: the OS picks a free port
        stub.url                          # http://127.0.0.1:PORT/v1 (also WORKBENCH_STUB_URL)
        litellm.completion(model="openai/stub-good", api_base=stub.url, api_key="sk-test", ...)

`python -m workbench.evals.stub_server [--port N]` serves until interrupted.

How it answers (POST /v1/chat/completions; nothing random, nothing from the network):
  * Answer models (any name without "judge"): the "knowledge" is the bullet lines
    (`- ...` / `* ...`) found in the request's messages. The answer is the bullet sharing
    the most content words with the last user message; with no bullet sharing at least
    two words it declines ("I'm sorry, I can't help with that ..."). A system prompt that
    says "at most N words" is obeyed by truncation (the worse prompt variant uses that).
    `stub-weak` answers with the second-best bullet for every third question (by hash);
    `stub-echo` repeats the question. "Respond in JSON" wraps the answer in {"answer": ...}.
  * Judge models (name contains "judge"): reads the sections `TASK:`, `QUESTION:`,
    `REFERENCE:`, `CONTEXTS:`, `ANSWER:` of the last user message.
    TASK rubric -> a digit 1-5: 1 + 4 x the share of REFERENCE (or QUESTION) words in ANSWER;
    with `logprobs` requested it returns top_logprobs over the neighbouring digits.
    TASK faithfulness / relevance -> JSON {"score": share of answer words found in
    CONTEXTS / QUESTION, "reason": ...}.
  * Usage: prompt_tokens = words in all messages + 3 per message; completion_tokens = words
    in the answer (at least 1).
Failures on demand:
  * marker `[[stub:429x2]]` in a message: the first 2 requests with those messages get 429
    (`[[stub:500x1]]` likewise with 500; `[[stub:500]]` or `[[stub:400]]`: always);
    `[[stub:sleep=0.3]]` delays that response. Broken replies (status 200):
    `[[stub:malformed]]` (truncated JSON), `[[stub:nochoices]]` (no `choices` key),
    `[[stub:emptychoices]]` (`choices: []`), `[[stub:emptybody]]` (no body at all),
    `[[stub:emptyanswer]]` (content ""), `[[stub:hang]]` (never answers until the server stops:
    for client timeouts without sleeping in a test); `...x1` after any of them: only the first time.
  * `stub.fail_next(n, status=429)`: the next n requests fail, whatever they are.
Every request is recorded in `stub.requests` (model, messages, body) for assertions.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_WORD = re.compile(r"[a-z0-9]+")
_MARKER = re.compile(r"\[\[stub:([a-z0-9=.]+)\]\]")
FAULTS = ("malformed", "nochoices", "emptychoices", "emptybody", "emptyanswer", "hang")
_STOP = frozenset(
    "a an the is are was were be been to of in on for and or but with without my your our i you we it "
    "this that do does did can could how what when where which who why will would should may might "
    "at by from as if so not no yes me us they them their there here please about into than then "
    "have has had get got any all some more most much many very just also only its it's".split()
)
REFUSAL = "I'm sorry, I can't help with that. Please contact support@acme.example."


def words(text: str) -> list[str]:
    return _WORD.findall((text or "").lower())


def content_words(text: str) -> set[str]:
    return {w for w in words(text) if w not in _STOP and len(w) > 1}


def _text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _section(text: str, name: str) -> str:
    m = re.search(rf"^{name}:\s*(.*?)(?=^[A-Z]{{3,}}:|^Reply |\Z)", text, re.S | re.M)
    return m.group(1).strip() if m else ""


def _overlap(a: str, b: str) -> float:
    """Share of a's content words that occur in b."""
    wa, wb = content_words(a), content_words(b)
    return len(wa & wb) / len(wa) if wa else 0.0


def _f1(a: str, b: str) -> float:
    wa, wb = content_words(a), content_words(b)
    common = len(wa & wb)
    if not common:
        return 0.0
    p, r = common / len(wa), common / len(wb)
    return 2 * p * r / (p + r)


class StubError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class StubFault(Exception):
    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


class StubServer:
    """Start with `start()` (or as a context manager); `stop()` shuts it down."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, set_env: bool = True):
        self.host, self.port, self.set_env = host, port, set_env
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}
        self._fail_queue: list[int] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._old_env: str | None = None
        self._stopping = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> "StubServer":
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, payload: dict, headers: dict | None = None):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _fault(self, kind: str):
                if kind == "hang":
                    stub._stopping.wait(60)  # the client times out long before; stop() releases it
                    return
                body = {"malformed": b'{"id": "x", "choices": [{"message": {"content": "cut', "emptybody": b""}.get(kind)
                if body is None:
                    ok = {"id": "chatcmpl-fault", "object": "chat.completion", "created": 1700000000, "model": "stub"}
                    if kind == "emptychoices":
                        ok["choices"] = []
                    elif kind == "emptyanswer":
                        ok["choices"] = [{"index": 0, "message": {"role": "assistant", "content": ""},
                                          "finish_reason": "stop"}]
                    ok["usage"] = {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1}
                    body = json.dumps(ok).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [
                        {"id": m, "object": "model", "owned_by": "stub"} for m in
                        ("stub-good", "stub-weak", "stub-echo", "stub-judge")]})
                else:
                    self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
                    return
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    self._send(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
                    return
                try:
                    self._send(200, stub.handle(body))
                except StubFault as fault:
                    self._fault(fault.kind)
                except StubError as exc:
                    kind = {429: "rate_limit_error", 400: "invalid_request_error"}.get(exc.status, "server_error")
                    headers = {"Retry-After": "0"} if exc.status == 429 else None
                    self._send(exc.status, {"error": {"message": str(exc), "type": kind, "code": str(exc.status)}}, headers)

        self._httpd = ThreadingHTTPServer((self.host, self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="stub-llm", daemon=True)
        self._thread.start()
        self._stopping.clear()
        if self.set_env:
            self._old_env = os.environ.get("WORKBENCH_STUB_URL")
            os.environ["WORKBENCH_STUB_URL"] = self.url
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self.set_env:
            if self._old_env is None:
                os.environ.pop("WORKBENCH_STUB_URL", None)
            else:
                os.environ["WORKBENCH_STUB_URL"] = self._old_env

    def __enter__(self) -> "StubServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- test helpers -----------------------------------------------------------------------
    def fail_next(self, n: int, status: int = 429) -> None:
        with self._lock:
            self._fail_queue.extend([status] * n)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._seen.clear()
            self._fail_queue.clear()

    def count(self, model: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if model is None or r["model"] == model)

    # -- the "model" ------------------------------------------------------------------------
    def handle(self, body: dict) -> dict:
        model = str(body.get("model") or "stub")
        messages = body.get("messages") or []
        texts = [_text(m.get("content")) for m in messages if isinstance(m, dict)]
        key = hashlib.sha256(json.dumps([model, messages], sort_keys=True).encode()).hexdigest()
        with self._lock:
            self.requests.append({"model": model, "messages": messages, "body": body})
            seen = self._seen.get(key, 0)
            self._seen[key] = seen + 1
            queued = self._fail_queue.pop(0) if self._fail_queue else None
        if queued:
            raise StubError(queued, f"stub: scheduled failure {queued}")
        for marker in _MARKER.findall(" ".join(texts)):
            if marker.startswith("sleep="):
                time.sleep(float(marker.split("=", 1)[1]))
                continue
            kind, _, times = marker.partition("x")
            if kind in FAULTS or marker in FAULTS:
                kind, times = (marker, "") if marker in FAULTS else (kind, times)
                if not times or seen < int(times):
                    raise StubFault(kind)
                continue
            status, _, times = marker.partition("x")
            if status.isdigit() and (not times or seen < int(times)):
                raise StubError(int(status), f"stub: failure {status} on demand (attempt {seen + 1})")
        if not texts:
            raise StubError(400, "messages must be a non-empty list")
        user = next((_text(m.get("content")) for m in reversed(messages)
                     if isinstance(m, dict) and m.get("role") == "user"), texts[-1])
        user = _MARKER.sub("", user)
        logprobs = None
        if "judge" in model:
            content, logprobs = self._judge(user, bool(body.get("logprobs")), int(body.get("top_logprobs") or 5))
        else:
            content = self._answer(model, texts, user)
        prompt_tokens = sum(len(words(t)) + 3 for t in texts)
        completion_tokens = max(1, len(words(content)))
        choice = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop",
                  "logprobs": logprobs}
        return {
            "id": "chatcmpl-" + key[:24], "object": "chat.completion", "created": 1700000000, "model": model,
            "choices": [choice],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }

    @staticmethod
    def _answer(model: str, texts: list[str], user: str) -> str:
        all_text = "\n".join(texts)
        bullets = [ln.strip()[2:].strip() for t in texts for ln in t.splitlines()
                   if ln.strip().startswith(("- ", "* "))]
        question = "\n".join(ln for ln in user.splitlines() if not ln.strip().startswith(("- ", "* ")))
        if "echo" in model:
            answer = question.strip()
        else:
            q = content_words(question)
            ranked = sorted(((len(q & content_words(b)), -i, b) for i, b in enumerate(bullets)), reverse=True)
            ranked = [r for r in ranked if r[0] >= 2]
            if not ranked:
                answer = REFUSAL
            else:
                pick = 0
                if "weak" in model and len(ranked) > 1 and int(hashlib.md5(question.encode()).hexdigest(), 16) % 3 == 0:
                    pick = 1
                answer = ranked[pick][2]
        m = re.search(r"at most (\d+) words", all_text, re.I)
        if m:
            answer = " ".join(answer.split()[: int(m.group(1))])
        if re.search(r"respond in json", all_text, re.I):
            answer = json.dumps({"answer": answer})
        return answer

    @staticmethod
    def _judge(user: str, want_logprobs: bool, top: int) -> tuple[str, dict | None]:
        task = _section(user, "TASK").lower()
        answer = _section(user, "ANSWER")
        question = _section(user, "QUESTION")
        if task.startswith("faithful"):
            score = round(_overlap(answer, _section(user, "CONTEXTS")), 3)
            return json.dumps({"score": score, "reason": "share of answer words supported by the contexts"}), None
        if task.startswith("relevan"):
            score = round(_overlap(question, answer), 3)
            return json.dumps({"score": score, "reason": "share of question words the answer addresses"}), None
        reference = _section(user, "REFERENCE")
        if not reference or reference == "(none)":
            reference = question
        f = _overlap(reference, answer)  # how much of the reference the answer covers
        digit = 1 + int(round(4 * f))
        if not want_logprobs:
            return str(digit), None
        probs = {digit: 0.6}
        for d in (digit - 1, digit + 1):
            if 1 <= d <= 5:
                probs[d] = 0.2
        total = sum(probs.values())
        alts = sorted(({"token": str(d), "logprob": math.log(p / total), "bytes": None} for d, p in probs.items()),
                      key=lambda a: -a["logprob"])[: max(1, top)]
        logprobs = {"content": [{"token": str(digit), "logprob": math.log(probs[digit] / total), "bytes": None,
                                 "top_logprobs": alts}]}
        return str(digit), logprobs


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - manual use
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    with StubServer(port=args.port) as stub:
        print(f"stub LLM at {stub.url} (export WORKBENCH_STUB_URL={stub.url}); Ctrl-C to stop", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":  # pragma: no cover
    main()
