"""Cron runs against the real WordPress: incremental crawls, deletions, durable output, exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import TYPE_CHECKING

import pytest

from tests import faults
from tests.crawling import (
    ROOT,
    assert_valid_records,
    crawl,
    crawl_command,
    crawl_environment,
    output_settings,
    records_of,
    start_crawl,
    written_items,
)
from tests.faults import FaultProxy
from viewworld.sites import site_key
from viewworld.state import StateStore

if TYPE_CHECKING:
    from pathlib import Path

    from tests.wordpress.site import WordPressSite

pytestmark = pytest.mark.wordpress


def public_ids(site: WordPressSite) -> set[int]:
    return {post["id"] for post in site.truth()["posts"]}


def add_posts(site: WordPressSite, count: int) -> list[int]:
    code = """
        $ids = [];
        for ($i = 0; $i < (int) $args['count']; $i++) {
            $ids[] = wp_insert_post(['post_title' => "Cron test post $i", 'post_status' => 'publish',
                                     'post_content' => "<p>Fresh news number $i.</p>", 'post_author' => 2]);
        }
        echo json_encode($ids);
    """
    return json.loads(site.php(code, count=str(count)))


def edit_posts(site: WordPressSite, ids: list[int]) -> None:
    site.php("""
        foreach (explode(',', $args['ids']) as $id) {
            wp_update_post(['ID' => (int) $id, 'post_content' => "<p>Corrected at " . microtime(true) . "</p>"]);
        }
    """, ids=",".join(map(str, ids)))


def trash_post(site: WordPressSite, post_id: int) -> None:
    site.php("wp_trash_post((int) $args['id']);", id=str(post_id))


def test_an_incremental_run_emits_exactly_what_changed_and_a_tombstone_for_what_went(fresh_site, tmp_path):
    site = fresh_site
    full = crawl(tmp_path, f"site={site.url}")
    assert full.exit_code == 0, full.log[-3000:]
    before = public_ids(site)
    assert {item["id"] for item in full.items()} == before
    # What a monitor reads of the last run in the state.
    assert full.last_run(site.url) | {"ended_at": None} == {
        "run": full.stat("viewworld/run"), "ended_at": None, "mode": "full", "complete": True,
        "written": len(before), "deleted": 0, "unchanged": 0, "output": str(full.files()[0])}

    untouched = sorted(before)
    added = add_posts(site, 5)
    edited = untouched[10:13]
    edit_posts(site, edited)
    trashed = untouched[20]
    trash_post(site, trashed)

    incremental = crawl(tmp_path, f"site={site.url}", "sweep=1")
    assert incremental.exit_code == 0, incremental.log[-3000:]
    items = incremental.items()
    assert_valid_records(items)
    posts = sorted(item["id"] for item in items if not item.get("deleted"))
    tombstones = [item for item in items if item.get("deleted")]
    assert posts == sorted(added + edited)
    assert [tombstone["id"] for tombstone in tombstones] == [trashed]
    last_run = incremental.last_run(site.url)
    assert (last_run["mode"], last_run["complete"], last_run["written"], last_run["deleted"]) == (
        "incremental", True, len(posts), 1), last_run
    # robots.txt, one posts page, the sweep's id listing, the check of the trashed post by id, and linked
    # resources the cache lacks: the new posts' category (Uncategorized) and the edited posts' media.
    after = public_ids(site)
    listing_pages = -(-len(after) // 100)
    assert incremental.requests <= 2 + listing_pages + 1 + 2 < full.requests, (incremental.requests, full.requests)
    print(f"\nfull: {full.requests} requests; incremental with a sweep: {incremental.requests} requests")

    quiet = crawl(tmp_path, f"site={site.url}")
    assert quiet.exit_code == 0, quiet.log[-3000:]
    assert quiet.items() == []
    assert quiet.requests <= 3, quiet.log[-3000:]
    last_run = quiet.last_run(site.url)
    assert last_run["mode"] == "incremental" and last_run["complete"] is True, last_run
    assert (last_run["written"], last_run["deleted"], last_run["output"]) == (0, 0, None), last_run
    assert last_run["run"] == quiet.stat("viewworld/run") != full.stat("viewworld/run"), last_run
    print(f"no change: {quiet.requests} requests")

    # full=1 writes every post again, unchanged or not (say, after a change of the cleaning).
    again = crawl(tmp_path, f"site={site.url}", "full=1")
    assert again.exit_code == 0, again.log[-3000:]
    assert sorted(item["id"] for item in again.items()) == sorted(after)


def test_a_scheduled_post_is_in_the_first_run_after_it_goes_public(fresh_site, tmp_path):
    """WordPress publishes a scheduled post with the ``modified_gmt`` of the moment it was scheduled: older
    than the mark of a run made in between, so ``modified_after`` never lists it. The next run finds it
    all the same, by the ids published since the mark, not a day later by the deletion sweep."""
    site = fresh_site
    # As an editor does it: a draft, then scheduled (an update: modified_gmt is now, the date is in two minutes).
    scheduled = json.loads(site.php("""
        $id = wp_insert_post(['post_title' => 'Embargoed until noon', 'post_status' => 'draft',
                              'post_content' => '<p>Under embargo.</p>', 'post_author' => 2]);
        $date_gmt = gmdate('Y-m-d H:i:s', time() + 120);
        wp_update_post(['ID' => $id, 'post_status' => 'future', 'edit_date' => true,
                        'post_date' => get_date_from_gmt($date_gmt), 'post_date_gmt' => $date_gmt]);
        echo json_encode($id);
    """))
    time.sleep(1.1)  # modified_gmt has whole seconds: the edit below is newer than the scheduling
    edit_posts(site, [min(public_ids(site))])
    no_overlap = {"INCREMENTAL_OVERLAP": "0"}
    before = crawl(tmp_path, f"site={site.url}", settings=no_overlap)
    assert before.exit_code == 0, before.log[-3000:]
    assert scheduled not in {item["id"] for item in before.items()}
    mark = StateStore(tmp_path / "state").load(site_key(site.url)).mark

    site.php("wp_publish_post((int) $args['id']);", id=str(scheduled))  # what WordPress's cron does when it is due
    [published] = [post for post in site.truth()["posts"] if post["id"] == scheduled]
    assert published["modified_gmt"] + "Z" < mark, (published, mark)  # what modified_after cannot reach

    after = crawl(tmp_path, f"site={site.url}", settings=no_overlap)
    assert after.exit_code == 0, after.log[-3000:]
    assert "deletion sweep" not in after.log
    assert [item["id"] for item in after.items()] == [scheduled]


def slow_crawl_writing(site: WordPressSite, tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    """A crawl slowed down to be caught mid-way, returned once its ``.part`` file has lines."""
    process = start_crawl(f"site={site.url}", settings={
        "DOWNLOAD_DELAY": "0.2", "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
        **output_settings(tmp_path, tmp_path / f"{name}.log")})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(path.stat().st_size for path in tmp_path.glob("*/*.jsonl.part")):
        time.sleep(0.05)
    return process


def terminate(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as Ctrl-C or a cron ``timeout`` stops a crawl; its exit code (SIGKILL after a minute)."""
    os.kill(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def test_a_run_killed_mid_crawl_then_run_again_loses_nothing_and_writes_nothing_twice(wordpress_sites, tmp_path):
    site = wordpress_sites["plain"]
    expected = public_ids(site)
    process = slow_crawl_writing(site, tmp_path, "killed")
    try:
        assert process.poll() is None, "the crawl ended before it could be killed"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert list(tmp_path.glob("*/*.jsonl.part")), "the killed run left no .part file"

    rerun = crawl(tmp_path, f"site={site.url}")
    assert rerun.exit_code == 0, rerun.log[-3000:]
    assert "recovered" in rerun.log
    assert not list(tmp_path.glob("*/*.jsonl.part"))
    items = written_items(tmp_path)
    assert_valid_records(items)
    written = [item["id"] for item in items]
    # The first crawl was killed halfway: the second writes the other half, and nothing twice.
    assert 0 < len(rerun.items()) < len(expected)
    assert sorted(written) == sorted(expected)


def test_a_jobdir_given_is_dropped_with_a_warning(wordpress_sites, tmp_path):
    site = wordpress_sites["plain"]
    job_directory = tmp_path / "job"
    result = crawl(tmp_path, f"site={site.url}", "max_posts=5", settings={"JOBDIR": str(job_directory)})
    assert result.exit_code == 0, result.log[-3000:]
    assert f"JOBDIR={job_directory} ignored" in result.stderr
    assert not job_directory.exists()


def test_sigterm_finishes_the_file_and_the_next_run_completes_the_crawl(wordpress_sites, tmp_path):
    site = wordpress_sites["plain"]
    process = slow_crawl_writing(site, tmp_path, "terminated")
    assert terminate(process) == 1, "an interrupted crawl lost data: exit 1"
    assert not list(tmp_path.glob("*/*.jsonl.part")), "SIGTERM finishes the file"
    [first] = tmp_path.glob("*/posts-*.jsonl")
    assert first.read_text(encoding="utf-8")
    rerun = crawl(tmp_path, f"site={site.url}")
    assert rerun.exit_code == 0, rerun.log[-3000:]
    written = [item["id"] for item in written_items(tmp_path)]
    assert sorted(written) == sorted(public_ids(site)), "every post written, none twice"


def test_a_site_done_in_a_run_of_several_is_ended_at_once_and_a_run_cut_short_keeps_it(wordpress_sites, tmp_path):
    """Each site of a run ends as soon as it is done (its file completed, its state saved, its lock released),
    not when the slowest site does: a run stopped meanwhile (SIGTERM, a cron timeout) keeps the mark of every
    site it finished, and its next run of them is incremental."""
    fast, slow = wordpress_sites["plain"], wordpress_sites["pretty"]
    key = site_key(fast.url)
    log = tmp_path / "run.log"
    with FaultProxy(slow.url) as proxy:
        proxy.inject("", faults.delay(2.0))  # every answer of the other site 2 s away
        process = start_crawl(f"site={fast.url},{proxy.url}", settings=output_settings(tmp_path, log))
        try:
            deadline = time.monotonic() + 60
            while not list(tmp_path.glob(f"{key}/posts-*.jsonl")) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert "Closing spider" not in log.read_text(encoding="utf-8"), "the site ended only with the run"
            [output] = tmp_path.glob(f"{key}/posts-*.jsonl")
            assert {record["id"] for record in records_of([output])} == public_ids(fast)
            state = StateStore(tmp_path / "state")
            state.lock(key)  # released: a run of that site alone could start now
            state.unlock(key)
            assert state.load(key).mark is not None
            assert terminate(process) == 1, "an interrupted crawl lost data: exit 1"
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
    assert f"{fast.url}: ended (its file completed" in log.read_text(encoding="utf-8")
    again = crawl(tmp_path, f"site={fast.url}")
    assert again.exit_code == 0, again.log[-3000:]
    assert ": incremental crawl" in again.log and again.items() == []


def test_a_run_of_more_sites_than_concurrent_sites_starts_each_as_one_ends(wordpress_sites, tmp_path):
    """``CONCURRENT_SITES=2`` and three sites (the real WordPress at three addresses, each a proxy of its own): the
    third starts only once one of the first two has ended, and each site gets every post."""
    site = wordpress_sites["plain"]
    with FaultProxy(site.url) as one, FaultProxy(site.url) as two, FaultProxy(site.url) as three:
        proxies = (one, two, three)
        result = crawl(tmp_path, "site=" + ",".join(proxy.url for proxy in proxies), settings={"CONCURRENT_SITES": "2"})
    assert result.exit_code == 0, result.log[-3000:]
    started = [result.log.index(f"{proxy.url}: full crawl") for proxy in proxies]
    first_ended = result.log.index(": ended (its file completed")  # the others may end with the run
    assert max(started[:2]) < first_ended < started[2], "the third site started before its turn"
    for proxy in proxies:
        records = records_of(tmp_path.glob(f"{site_key(proxy.url)}/posts-*.jsonl"))
        assert {record["id"] for record in records} == public_ids(site), proxy.url


def test_an_unreachable_site_exits_3_and_leaves_the_state_as_it_was(wordpress_sites, tmp_path, unused_port):
    site = wordpress_sites["plain"]
    assert crawl(tmp_path, f"site={site.url}", "max_posts=1").exit_code == 0
    store = StateStore(tmp_path / "state")
    dead = f"http://127.0.0.1:{unused_port}"
    state = store.load(f"127.0.0.1_{site.port}")
    state.site, state.mark, state.api_root = f"127.0.0.1_{unused_port}", "2024-01-01T00:00:00Z", None
    store.save(state)
    before = store.path(state.site).read_bytes()

    result = crawl(tmp_path, f"site={dead}")
    assert result.exit_code == 3
    assert "cannot be crawled: unreachable" in result.log
    assert store.path(state.site).read_bytes() == before


def test_a_second_run_for_a_site_whose_lock_is_held_exits_4_at_once(wordpress_sites, tmp_path):
    site = wordpress_sites["plain"]
    store = StateStore(tmp_path / "state")
    store.lock(f"127.0.0.1_{site.port}")
    try:
        started = time.monotonic()
        result = crawl(tmp_path, f"site={site.url}")
        assert result.exit_code == 4
        assert "wpposts: another run holds the lock" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert time.monotonic() - started < 20
        assert "Spider opened" not in result.log and not list(tmp_path.glob("*/posts-*")), "nothing was crawled"
    finally:
        store.unlock_all()


def test_a_run_written_by_a_feed_alone_ends_each_site_as_it_is_done(wordpress_sites, tmp_path):
    """Without JsonLinesPipeline (``-o`` writes), items are counted out of the pipelines as Scrapy scrapes them: the
    first site ends before the second starts (``CONCURRENT_SITES=1``), and nothing is taken for stuck."""
    site = wordpress_sites["plain"]
    feed = tmp_path / "feed.jsonl"
    with FaultProxy(site.url) as other:
        result = crawl(tmp_path, f"site={site.url},{other.url}", options=("-o", str(feed)), settings={
            "CONCURRENT_SITES": "1", "ITEM_PIPELINES": json.dumps({"viewworld.pipelines.CleaningPipeline": 300})})
    assert result.exit_code == 0, result.log[-3000:]
    assert "stuck" not in result.log
    assert result.log.index(f"{site.url}: ended (") < result.log.index(f"{other.url}: full crawl")
    records = records_of([feed])
    assert len(records) == 2 * len(public_ids(site)) and {record["id"] for record in records} == public_ids(site)
    state = StateStore(tmp_path / "state").load(site_key(site.url))
    assert state.mark is not None and state.posts == {}, "written by a feed, which may store it at the close only"


def test_more_sites_than_the_open_files_limit_allows_locks_for_is_one_line_and_exits_2(tmp_path):
    """A run takes a lock a site before it starts, and keeps files and connections open for CONCURRENT_SITES at a
    time: a sites_file of thousands under a low ``ulimit -n`` is said as what it is before anything is crawled (it
    was a STATE_DIR that cannot be written), and a limit below the hard one is raised first."""
    import resource

    sites = tmp_path / "sites.txt"
    sites.write_text("".join(f"http://127.0.{number // 250}.{number % 250 + 1}:9\n" for number in range(300)))
    command = crawl_command(f"sites_file={sites}", settings=output_settings(tmp_path, tmp_path / "crawl.log"))
    finished = subprocess.run(command, cwd=ROOT, env=crawl_environment(), capture_output=True, text=True, timeout=120,
                              preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200)), check=False)
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.strip().splitlines() == [
        "scrapy crawl: 300 sites need about 444 open files (a lock each, unless one-off, and the files and "
        "connections of CONCURRENT_SITES at a time), more than this process may have (ulimit -n: 200); give fewer "
        "sites a run, lower CONCURRENT_SITES, or raise the limit"]
    assert not (tmp_path / "crawl.log").exists() or "Spider opened" not in (tmp_path / "crawl.log").read_text()


def test_a_run_raises_its_open_files_limit_to_the_hard_one():
    import resource

    from viewworld.commands.crawl import raise_open_files_limit

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowered = 256 if hard == resource.RLIM_INFINITY else max(hard // 2, 64)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (lowered, hard))
        raised = raise_open_files_limit()
        assert raised == resource.getrlimit(resource.RLIMIT_NOFILE)[0] > lowered
        assert hard == resource.RLIM_INFINITY or raised == hard
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_an_output_directory_that_cannot_be_made_exits_5(wordpress_sites, tmp_path):
    site = wordpress_sites["plain"]
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the output directory should be", encoding="utf-8")
    result = crawl(tmp_path, f"site={site.url}", settings={"OUTPUT_DIR": str(blocker / "output")})
    assert result.exit_code == 5, result.log[-3000:]
    assert "the output cannot be written" in result.log


def test_a_log_file_gets_its_directory_made_and_one_that_cannot_be_written_exits_5(tmp_path, unused_port):
    dead = f"site=http://127.0.0.1:{unused_port}"
    log = tmp_path / "logs" / "hourly" / "crawl.log"
    made = crawl(tmp_path / "made", dead, settings={"LOG_FILE": str(log)})
    assert made.exit_code == 3, made.stderr[-2000:]
    assert "cannot be crawled: unreachable" in log.read_text(encoding="utf-8")

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the log's directory should be", encoding="utf-8")
    refused = crawl(tmp_path / "refused", dead, settings={"LOG_FILE": str(blocker / "crawl.log")})
    assert refused.exit_code == 5
    assert refused.stderr.strip() == (f"scrapy crawl: LOG_FILE={blocker / 'crawl.log'} cannot be written: {blocker} is "
                                      "a file, not a directory")
    unwritable = tmp_path / "a-directory.log"
    unwritable.mkdir()
    refused = crawl(tmp_path / "refused", dead, settings={"LOG_FILE": str(unwritable)})
    assert refused.exit_code == 5
    assert refused.stderr.strip() == f"scrapy crawl: LOG_FILE={unwritable} cannot be written: Is a directory"


@pytest.mark.parametrize(("setting", "message"), [
    ("CONCURRENT_REQUESTS_PER_DOMAIN=four", "the setting is a whole number, not 'four'"),
    ("CONCURRENT_REQUESTS_PER_DOMAIN=4.5", "the setting is a whole number, not '4.5'"),
    ("CONCURRENT_REQUESTS_PER_DOMAIN=0", "the setting is at least 1 (0 stalls the crawl for ever)"),
    ("DOWNLOAD_DELAY=1s", "the setting is a number, not '1s'"),
    ("ROBOTSTXT_OBEY=maybe", "the setting is true or false, not 'maybe'"),
    ("DOWNLOADER_MIDDLEWARES=[1, 2]", "the setting is a JSON object, not '[1, 2]'"),
    ("LOG_LEVEL=info", "the setting is one of CRITICAL, ERROR, WARNING, INFO, DEBUG, not 'info'"),
])
def test_a_malformed_setting_exits_2_with_one_line_naming_it(tmp_path, unused_port, setting, message):
    name, value = setting.split("=", 1)
    result = crawl(tmp_path, f"site=http://127.0.0.1:{unused_port}", settings={name: value})
    assert result.exit_code == 2
    assert result.stderr.strip() == f"scrapy crawl: -s {setting}: {message}"
    assert not list(tmp_path.glob("state/*"))


def test_a_state_directory_that_cannot_be_made_exits_5_before_crawling(tmp_path, unused_port):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the state directory should be", encoding="utf-8")
    result = crawl(tmp_path, f"site=http://127.0.0.1:{unused_port}", settings={"STATE_DIR": str(blocker / "state")})
    assert result.exit_code == 5
    assert result.stderr.strip().splitlines()[-1] == (
        f"scrapy crawl: STATE_DIR={blocker / 'state'} cannot be written: {blocker} is a file, not a directory")
    assert "Crawled" not in result.log


def test_a_malformed_argument_exits_2_with_one_line_naming_it(tmp_path):
    result = crawl(tmp_path, "per_page=500")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "wpposts: argument per_page='500' is not valid: expected a whole number from 1 to 100")
