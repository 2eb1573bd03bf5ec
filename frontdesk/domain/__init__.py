"""The studio's model and rules, as pure Python shared by the desk and the cloud.

No Qt, SQL, HTTP, file or clock access: state is read through `StateReader` and time
is passed in, so the same command on the same state gives the same outcome anywhere.
"""

from . import commands as commands  # registers every command
from . import import_commands as import_commands  # registers the import commands
from .engine import REGISTRY, Context, Result, execute, run
from .outcome import Notice, Outcome, Refused, Status

__all__ = [
    "REGISTRY",
    "Context",
    "Notice",
    "Outcome",
    "Refused",
    "Result",
    "Status",
    "commands",
    "execute",
    "run",
]
