"""The loopback fault proxy of `tests/faultproxy.py`, with what a campaign needs on top.

- `delay`: forward the request after `delay_s` (slow networks reorder concurrent work);
- held requests (`hold`, `hold_answer`) are released by `cut_held`, which closes them
  without an answer, as a crashed cloud or a cut cable would;
- `cut_all` closes every open connection (a partition also breaks calls in flight);
- an upstream that closes without answering closes the desk's connection too, instead
  of leaving the desk waiting for an answer that never comes;
- `count` counts requests, so a fault can strike after the N-th one.
"""

from __future__ import annotations

import asyncio
import contextlib

from tests.faultproxy import FaultProxy, _read_request


class Proxy(FaultProxy):
    def __init__(self, upstream_port: int) -> None:
        super().__init__(upstream_port)
        self.count = 0
        self.delay_s = 0.3
        self._holds: set[asyncio.Future[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    def reset(self) -> None:
        """No faults, nothing held, counters at zero: ready for a new run."""
        self.clear()
        self.cut_held()
        self.answered_upstream.clear()
        self.count = 0

    def cut_held(self) -> None:
        def cut() -> None:
            for hold in list(self._holds):
                if not hold.done():
                    hold.set_result(None)

        self._loop.call_soon_threadsafe(cut)

    def cut_all(self) -> None:
        def cut() -> None:
            for writer in list(self._writers):
                writer.transport.abort()
            for hold in list(self._holds):
                if not hold.done():
                    hold.set_result(None)

        self._loop.call_soon_threadsafe(cut)

    async def _held(self) -> None:
        hold: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._holds.add(hold)
        try:
            await asyncio.wait_for(hold, 3600)
        finally:
            self._holds.discard(hold)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                head, body, path = request
                self.count += 1
                fault = self._take(path)
                if fault == "down":
                    break
                if fault == "hold":
                    await self._held()
                    break
                if fault == "error500":
                    writer.write(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n")
                    await writer.drain()
                    continue
                if fault == "delay":
                    await asyncio.sleep(self.delay_s)
                answer = await self._forward(head, body)
                if fault == "duplicate":
                    answer = await self._forward(head, body)
                if fault == "hold_answer":
                    self.answered_upstream.set()
                    await self._held()
                    break
                if fault == "drop_answer" or not answer:
                    break
                writer.write(answer)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()
                await writer.wait_closed()

    def discard(self, kind: str) -> None:
        """Forget faults of one kind that no request has taken yet."""
        with self._lock:
            self.faults = [f for f in self.faults if f.kind != kind]
