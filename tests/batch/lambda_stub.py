"""A Lambda service on 127.0.0.1 that runs a Python handler: the Invoke API as botocore speaks it.

moto runs Lambda code only in docker, so the tool tests serve the Invoke
operation here: `POST /2015-03-31/functions/{FunctionName}/invocations`, the
payload as the body, `X-Amz-Invocation-Type`; the answer's body is the
handler's JSON, and a raised exception becomes the service's FunctionError
form (status 200, `X-Amz-Function-Error: Unhandled`, a body of
`{"errorMessage", "errorType", "stackTrace"}`), as the Lambda API reference
documents Invoke. The real boto3 client, signing and response parsing are used
by the code under test; only the service is local.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import unquote

PATH_PREFIX = "/2015-03-31/functions/"


class LambdaStub:
    def __init__(self, functions: dict[str, Callable[[Any], Any]]) -> None:
        self.functions = functions
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if not self.path.startswith(PATH_PREFIX) or not self.path.endswith("/invocations"):
                    return self._send(404, {"Type": "User", "message": "unknown operation"},
                                      {"x-amzn-ErrorType": "ResourceNotFoundException"})
                name = unquote(self.path[len(PATH_PREFIX):-len("/invocations")].split("?")[0])
                function = stub.functions.get(name)
                with stub._lock:
                    stub.calls.append({"function": name, "payload": json.loads(body or b"null"),
                                       "type": self.headers.get("X-Amz-Invocation-Type"),
                                       "signed": "AWS4-HMAC-SHA256" in (self.headers.get("Authorization") or "")})
                if function is None:
                    return self._send(404, {"Type": "User", "Message": f"Function not found: {name}"},
                                      {"x-amzn-ErrorType": "ResourceNotFoundException"})
                try:
                    answer = function(json.loads(body or b"null"))
                except Exception as err:  # noqa: BLE001 - what the Lambda runtime reports for a raised handler
                    return self._send(200, {"errorMessage": str(err), "errorType": type(err).__name__,
                                            "stackTrace": []},
                                      {"X-Amz-Function-Error": "Unhandled", "X-Amz-Executed-Version": "$LATEST"})
                return self._send(200, answer, {"X-Amz-Executed-Version": "$LATEST"})

            def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
                data = json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LambdaStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
