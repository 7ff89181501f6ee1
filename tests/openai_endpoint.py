"""A small OpenAI-compatible chat-completions server of our own, for the LLM rater's tests:
real HTTP on 127.0.0.1 in a thread, with scripted answers. The script is chosen by a
marker in the issue's title (the user message), so each item of a test meets its own
behaviour, and a behaviour can change from one attempt to the next:

    valid            a valid answer (the `answer` the test gave, quoting the title)
    bad-json         not JSON, on every attempt
    bad-json-once    not JSON the first time, then valid
    unknown          a category the codebook does not have
    slow             answers after `slow_seconds` (past the client's timeout) every time
    slow-once        too slow the first time, then valid
    limited-once     429 with Retry-After: 0 the first time, then valid
    limited          429 with Retry-After: 0 every time
    misquote         valid, but the evidence is not in the issue's text
    quote-heading    valid, but two quotes are the prompt's own headings ("Title:",
                     "Comment 1:") and one spans the title and the body across the
                     "Body:" heading: none of them is the issue's own text
    out              out of scope
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MARKER = re.compile(r"\[\[([a-z-]+)\]\]")


def send_json(handler: BaseHTTPRequestHandler, status: int, payload, headers=None) -> None:
    """One JSON reply (the test servers' own: this one and tests/hub_endpoint.py); bytes go
    out as they are (a hostile endpoint's malformed body)."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    try:
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up (a timeout): nothing to tell


class Endpoint:
    def __init__(self, answer: dict, slow_seconds: float = 1.5):
        self.answer = answer  # {dimension key: category path}
        self.slow_seconds = slow_seconds
        self.calls: Counter = Counter()
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": "no such path"})
                status, payload, headers = endpoint.respond(body, dict(self.headers))
                self._send(status, payload, headers)

            def _send(self, status, payload, headers=None):
                send_json(self, status, payload, headers)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def respond(self, body: dict, headers: dict):
        user = body["messages"][-1]["content"]
        title = re.search(r"Title: (.*)", user).group(1)
        found = MARKER.search(title)
        script = found.group(1) if found else "valid"
        with self.lock:
            self.calls[script] += 1
            attempt = self.calls[script]
            self.requests.append(body)
            self.headers.append(headers)
        if script == "bad-json" or (script == "bad-json-once" and attempt == 1):
            return 200, self._completion("Sure! Here are the labels: {symptom:"), {}
        if script == "slow" or (script == "slow-once" and attempt == 1):
            time.sleep(self.slow_seconds)
        if script == "limited" or (script == "limited-once" and attempt == 1):
            return 429, {"error": {"message": "rate limited"}}, {"Retry-After": "0"}
        if script == "out":
            return 200, self._completion(json.dumps({"out_of_scope": True, "records": []})), {}
        record = {
            key: {"category": path, "confidence": 0.9, "evidence": title}
            for key, path in self.answer.items()
        }
        if script == "unknown":
            record["symptom"]["category"] = "Crash > Meltdown"
        if script == "misquote":
            record["symptom"]["evidence"] = "a sentence nobody wrote"
        if script == "quote-heading":
            body = re.search(r"Body:\n(.*)", user).group(1)
            record["symptom"]["evidence"] = "Title:"
            record["root_cause"]["evidence"] = "Comment 1:"
            record["stage"]["evidence"] = f"{title[-9:]}\n\nBody:\n{body[:12]}"
        answer = {"out_of_scope": False, "records": [record]}
        return 200, self._completion("```json\n" + json.dumps(answer) + "\n```"), {}

    @staticmethod
    def _completion(content: str) -> dict:
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }
