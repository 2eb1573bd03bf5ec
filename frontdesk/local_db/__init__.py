"""The desk's local replica: the only code that opens its SQLite database."""

from .desk import Desk, ScanResult
from .migrate import ReplicaError
from .store import EffectiveReader, Recorded, Replica
from .views import MemberCard, MemberHit, RosterLine, SessionLine, Views

__all__ = [
    "Desk",
    "EffectiveReader",
    "MemberCard",
    "MemberHit",
    "Recorded",
    "Replica",
    "ReplicaError",
    "RosterLine",
    "ScanResult",
    "SessionLine",
    "Views",
]
