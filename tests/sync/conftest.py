from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloudproc import Cloud, DeskProc
from tests.faultproxy import FaultProxy


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    folder = tmp_path_factory.mktemp("cloud")
    served = Cloud(folder).prepare_seeded(members=40)
    served.start()
    yield served
    served.stop()


@pytest.fixture
def proxy(cloud: Cloud) -> Iterator[FaultProxy]:
    running = FaultProxy(cloud.port).start()
    yield running
    running.stop()


@pytest.fixture
def open_session(cloud: Cloud) -> dict[str, Any]:
    """A class whose check-in window is open now, with booked members not yet in."""
    return dict(cloud.seed["checkin_open_sessions"][0])


@pytest.fixture
def make_desk(tmp_path: Path, cloud: Cloud, open_session: dict[str, Any]) -> Any:
    """A signed-in desk at the open session's location (through `url` if given)."""
    count = [0]

    def make(url: str | None = None, role: str = "front_desk", sync: bool = True) -> DeskProc:
        count[0] += 1
        desk = DeskProc(tmp_path / f"desk{count[0]}")
        staff = next(
            s
            for s in cloud.seed["staff"]
            if s["role"] == role and open_session["location"] in s["locations"]
        )
        desk.login(url or cloud.url, staff, location=open_session["location"])
        if sync:
            code, body = desk.run("sync", "--once")
            assert code == 0, body
        return desk

    return make
