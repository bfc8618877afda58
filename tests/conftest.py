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

    ``scripts/test`` installs the Debian packages it needs; without them this fails, it does not skip.
    """
    from tests.wordpress.harness import running_sites, unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        pytest.fail(reason)
    with running_sites(tmp_path_factory.mktemp("wordpress")) as sites:
        yield sites


@pytest.fixture(scope="module")
def fresh_site(wordpress_sites: dict[str, Any], tmp_path_factory: pytest.TempPathFactory,
               request: pytest.FixtureRequest) -> Iterator[Any]:
    """A small WordPress of the module's own (in the session's MariaDB), for tests that change posts:
    the shared sites stay as seeded for every other module."""
    from tests.wordpress import extra_site

    # The directory's name names the site's database: one per module.
    name = "site-fresh-" + request.module.__name__.rsplit(".", 1)[-1]
    with extra_site(wordpress_sites["pretty"].database, tmp_path_factory.mktemp("fresh") / name, 60) as (fresh, _):
        yield fresh


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound and released at once)."""
    return free_port()
