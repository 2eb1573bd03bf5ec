"""Where a desk keeps its refresh token: the OS keyring, else memory, else (opt-in) a file.

The only module that touches keyring. Tokens are keyed by desk, so two desks on one PC
(two data folders) never overwrite each other.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path
from typing import Protocol

import keyring
from keyring.errors import KeyringError

SERVICE = "FrontDesk"


class CredentialStore(Protocol):
    kind: str

    def load(self) -> str | None: ...

    def save(self, token: str) -> None: ...

    def clear(self) -> None: ...


class KeyringStore:
    kind = "keyring"

    def __init__(self, desk_id: str) -> None:
        self.username = f"desk:{desk_id}"

    def load(self) -> str | None:
        try:
            return keyring.get_password(SERVICE, self.username)
        except KeyringError:
            return None

    def save(self, token: str) -> None:
        keyring.set_password(SERVICE, self.username, token)

    def clear(self) -> None:
        with contextlib.suppress(KeyringError):
            keyring.delete_password(SERVICE, self.username)


class MemoryStore:
    """Lives as long as this process: a later process must sign in again."""

    kind = "memory"

    def __init__(self) -> None:
        self.token: str | None = None

    def load(self) -> str | None:
        return self.token

    def save(self, token: str) -> None:
        self.token = token

    def clear(self) -> None:
        self.token = None


class FileStore:
    """Opt-in (`--insecure-storage`): a file readable only by this OS user."""

    kind = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> str | None:
        try:
            return self.path.read_text().strip() or None
        except FileNotFoundError:
            return None

    def save(self, token: str) -> None:
        """Atomically, and safe when two processes of the desk refresh at once (the window
        and `frontdesk sync`): each writes its own temporary file, the last rename wins.
        A shared temporary name let one process rename the other's file away from under it
        (found by the fault campaign: a live sync died of FileNotFoundError)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                    dir=self.path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(token)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(name, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def keyring_works(desk_id: str) -> bool:
    """Whether a keyring backend really stores secrets: write, read back, delete."""
    probe = KeyringStore(f"probe-{desk_id}")
    value = secrets.token_hex(8)
    try:
        probe.save(value)
        ok = probe.load() == value
        probe.clear()
        return ok
    except (KeyringError, RuntimeError, OSError):
        return False


def choose_store(desk_id: str, data_dir: Path, insecure_storage: bool) -> CredentialStore:
    """At sign-in: the keyring if it works, else a private file if asked, else memory."""
    if keyring_works(desk_id):
        return KeyringStore(desk_id)
    if insecure_storage:
        return FileStore(data_dir / "credentials")
    return MemoryStore()


def open_store(kind: str | None, desk_id: str, data_dir: Path) -> CredentialStore:
    """The store a desk chose when it signed in (memory holds nothing in a new process)."""
    if kind == "keyring":
        return KeyringStore(desk_id)
    if kind == "file":
        return FileStore(data_dir / "credentials")
    return MemoryStore()
