"""The campaign's clouds and proxies, kept for the whole test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.campaign import Environments, environments


@pytest.fixture(scope="session")
def envs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Environments]:
    with environments(tmp_path_factory.mktemp("faults")) as made:
        yield made


@pytest.fixture
def pg_envs(envs: Environments) -> Environments:
    try:
        envs.get("postgres")
    except RuntimeError as exc:
        pytest.skip(str(exc))
    return envs
