"""A real local HTTP server for the webhook tests (http.server in a thread).

``behaviours`` is consumed one entry per request (the last one repeats): ``("ok",)``,
``("status", code)``, ``("slow", seconds)`` (the request is recorded as received, then the
answer is delayed), ``("trickle", seconds_per_byte)`` (the status line is sent one byte at a
time).
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class AlertServer:
    def __init__(self, *behaviours: tuple) -> None:
        self.behaviours = list(behaviours) or [("ok",)]
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with server._lock:
                    index = len(server.requests)
                    server.requests.append({"headers": dict(self.headers), "body": body, "at": time.monotonic()})
                    behaviour = server.behaviours[min(index, len(server.behaviours) - 1)]
                try:
                    if behaviour[0] == "status":
                        self.send_response(behaviour[1])
                        self.end_headers()
                        return
                    if behaviour[0] == "slow":
                        time.sleep(behaviour[1])
                    if behaviour[0] == "trickle":
                        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(behaviour[1])
                        return
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on a slow answer

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def keys(self) -> list[str]:
        return [r["headers"].get("Idempotency-Key") for r in self.requests]

    def __enter__(self) -> "AlertServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
