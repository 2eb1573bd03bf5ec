"""Where a desk keeps its refresh token: the OS keyring, else memory, else (opt-in) a file.

The only module that touches keyring. Tokens are keyed by desk, so two desks on one PC
(two data folders) never overwrite each other.
"""

from __future__ import annotations

import contextlib
import os
import secrets
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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(token)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

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
