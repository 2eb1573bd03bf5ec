"""The desk's opt-in credentials file (`--insecure-storage`)."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from frontdesk.sync.credentials import FileStore


def test_two_writers_refreshing_at_once_never_fail(tmp_path: Path) -> None:
    """The window and `frontdesk sync` may both save a refreshed token at the same moment
    (a shared temporary file name made one of them die of FileNotFoundError)."""
    store = FileStore(tmp_path / "credentials")
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(name: str) -> None:
        start.wait()
        try:
            for n in range(300):
                store.save(f"{name}-{n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in ("window", "sync")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.load() in ("window-299", "sync-299")
    assert [p.name for p in tmp_path.iterdir()] == ["credentials"]  # no temporary left
    assert stat.S_IMODE((tmp_path / "credentials").stat().st_mode) == 0o600
