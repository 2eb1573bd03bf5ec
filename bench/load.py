"""A light asyncio load generator for the cloud: `python -m bench.load` (own process).

    python -m bench.load URL STUDIOS.json --desks 500 --rate 200 --seconds 30

STUDIOS.json lists studios (tenant, location, a front-desk access_token and staff_id).
Registers `--desks` devices spread over them, has each hold the live
long-poll (`GET /v1/sync/live`) open — a woken desk asks again after a pause, as a desk
pulling would — and pushes `--rate` commands a second (one `add_member` each, from the
desks in turn, each desk's sequence in order), open-loop: a command's latency counts
from when it was due. Plain HTTP/1.1 over asyncio streams keeps the generator light.
Prints "ready" when every desk holds its poll, then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import resource
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit


class HttpError(Exception):
    pass


class Conn:
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, token: str | None = None,
                      body: Any = None) -> tuple[int, Any]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        payload = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                f"Content-Length: {len(payload)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        if token:
            head.append(f"Authorization: Bearer {token}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        try:
            status_line = await self.reader.readline()
            if not status_line:
                raise HttpError("connection closed")
            status = int(status_line.split()[1])
            length = 0
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            data = await self.reader.readexactly(length) if length else b""
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
            self.close()
            raise HttpError(str(exc)) from exc
        return status, json.loads(data) if data else None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class DeskState:
    token: str
    client_id: str
    staff_id: str
    location: str
    seq: int = 0
    position: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)
    push_errors: int = 0
    rejected: int = 0
    live_answers: int = 0
    live_errors: int = 0
    holding: int = 0
    error_samples: list[str] = field(default_factory=list)

    def error(self, text: str) -> None:
        if len(self.error_samples) < 5:
            self.error_samples.append(text[:300])


async def register(host: str, port: int, studios: list[dict[str, Any]], count: int
                   ) -> list[DeskState]:
    desks: list[DeskState] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def worker() -> None:
        conn = Conn(host, port)
        while not queue.empty():
            n = queue.get_nowait()
            studio = studios[n % len(studios)]
            status, answer = await conn.request("POST", "/v1/devices", studio["access_token"], {
                "name": f"load desk {n}", "location_id": studio["location"],
                "desk_id": str(uuid.uuid4())})
            if status != 200:
                raise HttpError(f"register: {status} {answer}")
            desks.append(DeskState(answer["access_token"], answer["client_id"],
                                   studio["staff_id"], studio["location"]))
        conn.close()

    await asyncio.gather(*(worker() for _ in range(16)))
    return desks


async def hold_live(host: str, port: int, desk: DeskState, figures: Figures,
                    stop: asyncio.Event) -> None:
    conn = Conn(host, port)
    first = True
    while not stop.is_set():
        try:
            wait = 0 if first else 25
            if not first:
                figures.holding += 1
            try:
                status, answer = await conn.request(
                    "GET", f"/v1/sync/live?position={desk.position}&timeout={wait}", desk.token)
            finally:
                if not first:
                    figures.holding -= 1
            first = False
            if status != 200:
                figures.live_errors += 1
                figures.error(f"live {status} {answer}")
                await asyncio.sleep(1)
                continue
            figures.live_answers += 1
            desk.position = int(answer["position"])
            if answer.get("changed"):
                await asyncio.sleep(random.uniform(0.5, 1.5))  # the desk pulls, then waits again
        except HttpError as exc:
            figures.live_errors += 1
            figures.error(f"live: {exc}")
            await asyncio.sleep(1)
    conn.close()


def command(desk: DeskState) -> dict[str, Any]:
    desk.seq += 1
    return {"command_id": str(uuid.uuid4()), "seq": desk.seq, "name": "add_member",
            "version": 1,
            "args": {"name": f"Load {uuid.uuid4().hex[:8]}",
                     "phone": f"1{random.randrange(10**10):010d}"},
            "staff_id": desk.staff_id, "location_id": desk.location,
            "happened_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "clock_offset_s": 0.0}


async def push_one(pool: asyncio.Queue[Conn], desk: DeskState, due: float,
                   figures: Figures) -> None:
    async with desk.lock:
        conn = await pool.get()
        try:
            status, answer = await conn.request("POST", "/v1/sync/push", desk.token, {
                "client_id": desk.client_id, "commands": [command(desk)]})
        except HttpError as exc:
            figures.push_errors += 1
            figures.error(f"push: {exc}")
            desk.seq -= 1  # not applied (or not known to be): a desk would resend it
            return
        finally:
            pool.put_nowait(conn)
    figures.latencies.append((time.perf_counter() - due) * 1000)
    if status != 200:
        figures.push_errors += 1
        figures.error(f"push {status} {answer}")
        return
    for outcome in answer.get("outcomes", []):
        if outcome.get("status") == "rejected":
            figures.rejected += 1
            figures.error(f"rejected {outcome.get('code')}: {outcome.get('message')}")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    parts = urlsplit(args.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    with open(args.studios, encoding="utf-8") as plan:
        studios = json.load(plan)
    desks = await register(host, port, studios, args.desks)
    random.Random(5).shuffle(desks)  # commands go round the studios, not one after another
    figures = Figures()
    stop = asyncio.Event()
    pollers = [asyncio.ensure_future(hold_live(host, port, d, figures, stop)) for d in desks]
    deadline = time.monotonic() + 30
    while figures.holding < len(desks) * 0.98 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    held_at_start = figures.holding
    print("ready", flush=True)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    pool: asyncio.Queue[Conn] = asyncio.Queue()
    for _ in range(args.connections):
        pool.put_nowait(Conn(host, port))
    started = time.perf_counter()
    tasks = []
    interval = 1 / args.rate
    n = 0
    min_holding = figures.holding
    while True:
        due = started + n * interval
        if due - started >= args.seconds:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(push_one(pool, desks[n % len(desks)], due, figures)))
        min_holding = min(min_holding, figures.holding)
        n += 1
    await asyncio.wait(tasks, timeout=60)
    wall = time.perf_counter() - started
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    print("done", flush=True)
    stop.set()
    for task in pollers:
        task.cancel()
    with contextlib.suppress(Exception):
        await asyncio.gather(*pollers, return_exceptions=True)
    ordered = sorted(figures.latencies) or [float("nan")]

    def pct(q: float) -> float:
        return ordered[min(int(q * len(ordered)), len(ordered) - 1)]

    return {
        "sent": n, "answered": len(figures.latencies), "push_errors": figures.push_errors,
        "rejected": figures.rejected, "p50_ms": pct(0.50), "p95_ms": pct(0.95),
        "p99_ms": pct(0.99), "max_ms": ordered[-1], "wall_s": wall, "rate": n / args.seconds,
        "live_answers": figures.live_answers, "live_errors": figures.live_errors,
        "desks": len(desks), "holding_at_start": held_at_start, "min_holding": min_holding,
        "generator_cpu_s": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
        "errors": figures.error_samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("url")
    parser.add_argument("studios", help="a JSON file: [{tenant, location, access_token, "
                                        "staff_id}]")
    parser.add_argument("--desks", type=int, default=500)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args(argv)
    report = asyncio.run(run(args))
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
