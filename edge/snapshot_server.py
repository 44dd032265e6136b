"""Read-only HTTP endpoint serving the edge's snapshots to the server (`snapshot_port`, off by default).

`GET /snapshots/<ref>` (also HEAD) answers the JPEG named by an event's `crop_ref` or `frame_ref`.
A reference is resolved and must stay inside the snapshot root and name a `.jpg` file; anything
else (`..`, absolute paths, links out of the root, missing or expired files) is a 404. With a
token set, requests need `Authorization: Bearer <token>` (401 otherwise, checked before the path
so nothing about the files is revealed). Nothing is written, listed or deleted through it.
"""

from __future__ import annotations

import hmac
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

PREFIX = "/snapshots/"


def resolve_ref(root: Path, ref: str) -> Path | None:
    """The file `ref` names under `root`, or None when it is not a kept snapshot inside `root`."""
    if not ref or ref.startswith(("/", "\\")) or "\x00" in ref or "\\" in ref:
        return None
    base = root.resolve()
    try:
        path = (base / ref).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if not path.is_relative_to(base) or path == base or path.suffix.lower() != ".jpg":
        return None
    return path if path.is_file() else None


class _Handler(BaseHTTPRequestHandler):
    server: _SnapshotHTTPServer
    server_version = "dealergate-edge-snapshots"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _answer(self, *, body: bool) -> None:
        if not self._authorised():
            self._status(HTTPStatus.UNAUTHORIZED, body, {"WWW-Authenticate": 'Bearer realm="snapshots"'})
            return
        path = urlsplit(self.path).path
        path = (
            resolve_ref(self.server.root, unquote(path[len(PREFIX) :])) if path.startswith(PREFIX) else None
        )
        if path is None:
            self._status(HTTPStatus.NOT_FOUND, body)
            return
        try:
            data = path.read_bytes()
        except OSError:  # deleted by retention in between
            self._status(HTTPStatus.NOT_FOUND, body)
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "private, max-age=86400")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _authorised(self) -> bool:
        token = self.server.token
        if not token:
            return True
        given = self.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())

    def _status(self, status: HTTPStatus, body: bool, headers: dict[str, str] | None = None) -> None:
        text = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        if body:
            self.wfile.write(text)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("snapshot http %s: " + format, self.address_string(), *args)


class _SnapshotHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], root: Path, token: str) -> None:
        self.root, self.token = root, token
        super().__init__(address, _Handler)


class SnapshotServer:
    """The endpoint on its own thread, started and stopped with the edge."""

    def __init__(self, root: Path | str, port: int, host: str = "127.0.0.1", token: str = "") -> None:
        self.root, self.port, self.host, self.token = Path(root), port, host, token
        self._server: _SnapshotHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind and serve; raises OSError when the port is unavailable."""
        self._server = _SnapshotHTTPServer((self.host, self.port), self.root, self.token)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="snapshot-http", daemon=True)
        self._thread.start()
        log.info(
            "snapshots on http://%s:%d%s<ref>%s",
            self.host,
            self.port,
            PREFIX,
            " (bearer token)" if self.token else "",
        )

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
