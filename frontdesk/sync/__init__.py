"""Talking to the cloud: HTTP client, credentials, and the sync engine. No Qt here."""

from .client import CloudClient, CloudError, Unauthorized, Unreachable
from .credentials import CredentialStore, choose_store, keyring_works, open_store
from .engine import (
    DeviceRevoked,
    NotSignedIn,
    SignIn,
    SyncEngine,
    SyncReport,
    SyncState,
    sign_in,
)

__all__ = [
    "CloudClient",
    "CloudError",
    "CredentialStore",
    "DeviceRevoked",
    "NotSignedIn",
    "SignIn",
    "SyncEngine",
    "SyncReport",
    "SyncState",
    "Unauthorized",
    "Unreachable",
    "choose_store",
    "keyring_works",
    "open_store",
    "sign_in",
]
