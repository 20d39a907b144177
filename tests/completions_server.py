"""A small OpenAI-compatible completions server on 127.0.0.1 that really generates with a transformers
model (greedy, no stop rule of ours: like vLLM or llama.cpp's server, it runs to eos or max_tokens)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class CompletionsServer:
    """Serves `lm` (a nl2sql LoadedModel) as model `name` at `self.url` + /v1."""

    def __init__(self, lm, name: str = "tiny"):
        self.requests: list[dict] = []
        self.disconnects = 0  # streams the client closed before the end
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path.rstrip("/") == "/v1/models":
                    return self._send(200, {"object": "list", "data": [{"id": name, "object": "model"}]})
                self._send(404, {"error": {"message": "not found"}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                if self.path != "/v1/completions" or body.get("model") != name:
                    return self._send(404, {"error": {"message": f"no model {body.get('model')!r} at {self.path}"}})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for piece in outer.tokens(body["prompt"], body.get("max_tokens", 16)):
                        chunk = {"id": "cmpl-1", "object": "text_completion", "created": 0, "model": name,
                                 "choices": [{"index": 0, "text": piece, "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    outer.disconnects += 1
                self.close_connection = True

        self.lm = lm
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def tokens(self, prompt: str, max_tokens: int):
        """The decoded text of each new token, greedy, until eos or max_tokens."""
        import torch

        tok, model = self.lm.tokenizer, self.lm.model
        ids = tok(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
        past, out, text = None, [], ""
        with torch.inference_mode():
            for _ in range(max_tokens):
                res = model(input_ids=ids, past_key_values=past, use_cache=True)
                past, nxt = res.past_key_values, int(res.logits[0, -1].argmax())
                if nxt == tok.eos_token_id:
                    return
                out.append(nxt)
                new = tok.decode(out, skip_special_tokens=True)
                yield new[len(text):]
                text, ids = new, torch.tensor([[nxt]])

    def close(self):
        self.server.shutdown()
        self.server.server_close()
