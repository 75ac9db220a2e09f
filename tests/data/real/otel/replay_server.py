"""Local OpenAI-compatible replay server used by the generate_*.py / .mjs scripts.

It answers on 127.0.0.1 with response bodies recorded from the real OpenAI API,
kept verbatim in replay_bodies.json (each entry names the cassette it came from).
Routing (by the request the client sent):
  POST /v1/chat/completions, model "this-model-does-not-exist"  -> chat_404 (HTTP 404)
  POST /v1/chat/completions, "stream": true                     -> chat_stream (SSE, chunked)
  POST /v1/chat/completions, model starting "gpt-5"             -> chat_reasoning
  POST /v1/chat/completions, any other model                    -> chat_cached
  POST /v1/responses, model "this-model-does-not-exist"         -> chat_404 body (HTTP 404)
  POST /v1/responses                                            -> responses_reasoning
Delays so that latency and time-to-first-chunk are visible: a non-streamed
answer is sent after NONSTREAM_DELAY s; a stream sends its first event after
FIRST_CHUNK_DELAY s and each further event CHUNK_GAP s later.
Run standalone: python replay_server.py PORT  (prints each request to stderr).
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
BODIES = json.load(open(os.path.join(HERE, "replay_bodies.json")))
NONSTREAM_DELAY = 0.12
FIRST_CHUNK_DELAY = 0.08
CHUNK_GAP = 0.015
BAD_MODEL = "this-model-does-not-exist"
LOG = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def do_POST(self):
        n = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            req = json.loads(raw or b"{}")
        except ValueError:
            req = {}
        path = self.path.split("?")[0]
        model = req.get("model", "")
        if model == BAD_MODEL:
            key = "chat_404"
        elif path.endswith("/responses"):
            key = "responses_reasoning"
        elif req.get("stream"):
            key = "chat_stream"
        elif str(model).startswith("gpt-5"):
            key = "chat_reasoning"
        else:
            key = "chat_cached"
        LOG.append({"path": path, "model": model, "stream": bool(req.get("stream")), "replayed": key})
        print(f"replay: {path} model={model} stream={bool(req.get('stream'))} -> {key}", file=sys.stderr)
        entry = BODIES[key]
        if key == "chat_stream":
            self.send_response(200)
            self.send_header("Content-Type", entry["content_type"])
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            time.sleep(FIRST_CHUNK_DELAY)
            events = [e for e in entry["body"].split("\n\n") if e.strip()]
            for i, ev in enumerate(events):
                if i:
                    time.sleep(CHUNK_GAP)
                data = (ev + "\n\n").encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            return
        time.sleep(NONSTREAM_DELAY)
        data = entry["body"].encode()
        self.send_response(entry["status"])
        self.send_header("Content-Type", entry["content_type"])
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", "req_replay_" + key)
        self.end_headers()
        self.wfile.write(data)


def start(port=0):
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}/v1"


if __name__ == "__main__":
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print(f"listening on http://127.0.0.1:{srv.server_address[1]}/v1", file=sys.stderr, flush=True)
    srv.serve_forever()
