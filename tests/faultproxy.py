"""A fault-injecting HTTP proxy on loopback, between desks and the cloud.

Runs in a background thread. Faults: refuse connections (network down), drop the
answer after the cloud has replied (committed but unanswered), answer 500, hold a
request (a timeout), or duplicate a request. Each fault can be limited to requests
whose path starts with a prefix, and to the next N of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass


@dataclass
class Fault:
    kind: str  # "down" | "drop_answer" | "hold_answer" | "error500" | "hold" | "duplicate"
    path: str = ""  # only requests whose path starts with this
    count: int | None = None  # only the next N matching requests (None: until cleared)
    skip: int = 0  # let this many matching requests through first


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.faults: list[Fault] = []
        self.seen: list[str] = []  # "METHOD path" of every request that reached the proxy
        self.answered_upstream = threading.Event()  # set when the cloud answered a held call
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="fault-proxy")
        self._lock = threading.Lock()

    # -- control (from the test's thread) ---------------------------------------------------
    def start(self) -> FaultProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fault proxy did not start")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, kind: str, path: str = "", count: int | None = None, skip: int = 0) -> None:
        with self._lock:
            self.faults.append(Fault(kind, path, count, skip))

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def _take(self, path: str) -> str | None:
        with self._lock:
            for fault in self.faults:
                if path.startswith(fault.path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count <= 0:
                            self.faults.remove(fault)
                    return fault.kind
        return None

    # -- the proxy ---------------------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._server.close()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.run_until_complete(self._server.wait_closed())
        self._loop.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                head, body, path = request
                self.seen.append(head.split(b"\r\n", 1)[0].decode(errors="replace"))
                fault = self._take(path)
                if fault == "down":
                    break
                if fault == "hold":
                    await asyncio.sleep(3600)
                    break
                if fault == "error500":
                    writer.write(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n")
                    await writer.drain()
                    continue
                answer = await self._forward(head, body)
                if fault == "duplicate":
                    answer = await self._forward(head, body)
                if fault == "hold_answer":
                    self.answered_upstream.set()
                    await asyncio.sleep(3600)
                    break
                if fault == "drop_answer" or answer is None:
                    break
                writer.write(answer)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
                await writer.wait_closed()

    async def _forward(self, head: bytes, body: bytes) -> bytes | None:
        lines = [
            line
            for line in head.split(b"\r\n")
            if line and not line.lower().startswith((b"connection:", b"keep-alive:"))
        ]
        lines.append(b"Connection: close")
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            return None
        try:
            up_writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
            await up_writer.drain()
            answer = await up_reader.read()
        finally:
            up_writer.close()
        # Tell the client the connection stays usable only for what we send back.
        return _keep_alive_free(answer)


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes, str] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    head = head[:-4]
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    path = head.split(b" ", 2)[1].decode(errors="replace")
    return head, body, path


def _keep_alive_free(answer: bytes) -> bytes:
    head, sep, body = answer.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join(lines) + sep + body
