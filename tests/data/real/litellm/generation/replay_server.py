# Minimal 127.0.0.1 OpenAI-compatible server that replays recorded response bodies (from pydantic-ai cassettes).
import json, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
BODIES = json.load(open(sys.argv[2]))
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get('content-length', 0)); req = json.loads(self.rfile.read(n) or b'{}')
        key = self.headers.get('x-replay') if self.headers.get('x-replay') in BODIES else None
        time.sleep(0.12)
        if key is None:
            code, body = 400, {'error': {'message': 'no replay for model', 'type': 'invalid_request_error'}}
        elif key == 'chat_404':
            code, body = BODIES[key]['status'], BODIES[key]['body']
        else:
            code, body = 200, BODIES[key]
        data = json.dumps(body).encode()
        self.send_response(code); self.send_header('content-type', 'application/json'); self.send_header('content-length', str(len(data))); self.end_headers(); self.wfile.write(data)
    def log_message(self, *a): pass
HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
