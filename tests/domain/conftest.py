"""Shared fixtures for the domain tests: a fresh in-memory studio per test."""

from __future__ import annotations

from datetime import timedelta

import pytest

from frontdesk.domain import Result, Status
from tests.studio import Studio

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
def studio() -> Studio:
    return Studio()


def applied(result: Result, code: str = "ok") -> Result:
    """Assert a command applied cleanly (no warnings) with `code`; return it for chaining."""
    assert result.outcome.status is Status.APPLIED, result.outcome
    assert result.outcome.code == code, result.outcome
    return result


def rejected(result: Result, code: str) -> Result:
    """Assert a command was refused with `code` and changed nothing."""
    assert result.outcome.status is Status.REJECTED, result.outcome
    assert result.outcome.code == code, result.outcome
    assert result.changes == []
    return result


def warned(result: Result, *codes: str) -> Result:
    """Assert a command applied with exactly these warning codes (in any order)."""
    assert result.outcome.status is Status.APPLIED_WITH_WARNING, result.outcome
    assert sorted(w.code for w in result.outcome.warnings) == sorted(codes), result.outcome
    return result
