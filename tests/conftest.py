from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.wordpress.processes import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

DATA = Path(__file__).parent / "data"


@pytest.fixture
def seed_post() -> dict[str, Any]:
    """One real post from viewworld.org (a plain-permalink site) as its REST API returns it."""
    return json.loads((DATA / "seed_post.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def wordpress_sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real WordPress per permalink mode, installed and seeded once per test run.

    ``make test`` installs the Debian packages it needs; without them this fails, it does not skip.
    """
    from tests.wordpress.harness import running_sites, unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        pytest.fail(reason)
    with running_sites(tmp_path_factory.mktemp("wordpress")) as sites:
        yield sites


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound and released at once)."""
    return free_port()
