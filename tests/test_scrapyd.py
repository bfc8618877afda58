"""wpposts on a real Scrapyd 1.6: the egg ``scrapyd-deploy`` builds, deployed with ``addversion.json`` and
scheduled with ``schedule.json`` as the README's "Running on Scrapyd" says, against the real WordPress of the
suite.

Scrapyd runs with this virtualenv's Python (it installs no dependencies from the egg), on a free port of
127.0.0.1, from its own directory with its own ``scrapyd.conf`` and HOME, and is stopped by its pid.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.crawling import CREDENTIAL_VARIABLES, FAST, ROOT, assert_valid_records, records_of, written_items
from tests.wordpress.processes import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.wordpress.site import WordPressSite

PROJECT, SPIDER = "viewworld", "wpposts"
SCRAPYD_DEPLOY = [sys.executable, "-m", "scrapyd_client.deploy"]


def git_status() -> set[str]:
    """The work tree's changed and untracked files, as git sees them (what .gitignore names is not listed)."""
    finished = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                              capture_output=True, text=True, check=True)
    return set(finished.stdout.splitlines())


def environment(**changes: str) -> dict[str, str]:
    """This process's environment without credentials or anything that would point Python at the work tree."""
    dropped = (*CREDENTIAL_VARIABLES, "PYTHONPATH", "SCRAPY_SETTINGS_MODULE", "SCRAPY_PROJECT")
    return {name: value for name, value in os.environ.items() if name not in dropped} | changes


# The egg ----------------------------------------------------------------------------------------------


@dataclass
class Build:
    egg: Path
    untracked: set[str]
    """Lines of ``git status --porcelain`` that the build added: files git would offer to commit."""


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    directory = tmp_path_factory.mktemp("egg")
    egg = directory / "viewworld.egg"
    before = git_status()
    # TMPDIR: scrapyd-deploy --build-egg leaves its scrapydeploy-* build directory behind.
    finished = subprocess.run([*SCRAPYD_DEPLOY, "--build-egg", str(egg)], cwd=ROOT, capture_output=True, text=True,
                              env=environment(TMPDIR=str(directory)), timeout=120, check=False)
    assert finished.returncode == 0, finished.stderr
    return Build(egg, git_status() - before)


def test_the_egg_holds_the_viewworld_package_with_its_schemas_and_nothing_else(build):
    with zipfile.ZipFile(build.egg) as egg:
        names = set(egg.namelist())
        metadata = egg.read("EGG-INFO/PKG-INFO").decode()
    assert {name.split("/")[0] for name in names} == {"EGG-INFO", "viewworld"}
    sources = {path.relative_to(ROOT).as_posix() for path in (ROOT / "viewworld").rglob("*.py")}
    assert sources <= names, f"modules missing from the egg: {sorted(sources - names)}"
    assert "viewworld/schemas/post.schema.json" in names
    assert {path.relative_to(ROOT).as_posix() for path in (ROOT / "viewworld" / "schemas").glob("*.json")} <= names
    assert re.search(r"^Name: viewworld$", metadata, re.MULTILINE)


def test_the_egg_names_the_project_settings_as_its_scrapy_entry_point(build):
    entry_points = configparser.ConfigParser()
    with zipfile.ZipFile(build.egg) as egg:
        entry_points.read_string(egg.read("EGG-INFO/entry_points.txt").decode())
    assert dict(entry_points["scrapy"]) == {"settings": "viewworld.settings"}


def test_building_the_egg_leaves_no_file_git_would_commit(build):
    """The build leaves build/ and viewworld.egg-info/ in the work tree (setup.py bdist_egg): .gitignore names them
    (and whatever else it leaves must be named there too)."""
    assert not build.untracked, build.untracked
    ignored = set((ROOT / ".gitignore").read_text(encoding="utf-8").splitlines())
    assert {"build/", "*.egg-info/"} <= ignored


# Scrapyd ----------------------------------------------------------------------------------------------


@dataclass
class Scrapyd:
    url: str
    directory: Path
    process: subprocess.Popen[bytes]

    def get(self, endpoint: str, **params: str) -> dict[str, Any]:
        return self._call(f"{self.url}/{endpoint}?{urllib.parse.urlencode(params)}")

    def post(self, endpoint: str, fields: list[tuple[str, str]]) -> dict[str, Any]:
        return self._call(f"{self.url}/{endpoint}", urllib.parse.urlencode(fields).encode())

    def _call(self, url: str, data: bytes | None = None) -> dict[str, Any]:
        with urllib.request.urlopen(url, data, timeout=60) as response:  # noqa: S310 - our own Scrapyd
            answer = json.load(response)
        assert answer["status"] == "ok", answer
        return answer

    def schedule(self, *arguments: str, settings: dict[str, str]) -> str:
        """``curl URL/schedule.json -d project=viewworld -d spider=wpposts -d NAME=VALUE -d setting=NAME=VALUE``."""
        fields = [("project", PROJECT), ("spider", SPIDER), *(tuple(argument.split("=", 1)) for argument in arguments)]
        fields += [("setting", f"{name}={value}") for name, value in (FAST | settings).items()]
        return self.post("schedule.json", fields)["jobid"]

    def wait(self, job: str, timeout: float = 120) -> dict[str, Any]:
        """Polls ``listjobs.json`` until the job is finished; returns its entry."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = self.get("listjobs.json", project=PROJECT)
            for finished in jobs["finished"]:
                if finished["id"] == job:
                    return finished
            time.sleep(0.2)
        pytest.fail(f"job {job} did not finish in {timeout} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        """Scrapyd's own log (its standard output): where a job's exit status shows."""
        return (self.directory / "scrapyd.log").read_text(encoding="utf-8", errors="replace")

    def exit_status(self, job: str) -> int | None:
        """The job's exit status, as Scrapyd's log records it (``Process finished`` is 0)."""
        log = self.log()
        if f"Process finished: project='{PROJECT}' spider='{SPIDER}' job='{job}'" in log:
            return 0
        died = re.search(rf"Process died: exitstatus=(\d+) project='{PROJECT}' spider='{SPIDER}' job='{job}'", log)
        return None if died is None else int(died.group(1))

    def job_log(self, job: str) -> str:
        return (self.directory / "logs" / PROJECT / SPIDER / f"{job}.log").read_text(encoding="utf-8")

    def job_feed(self, job: str) -> list[dict[str, Any]]:
        """What Scrapyd's ``items_dir`` feed holds for the job."""
        path = self.directory / "items" / PROJECT / SPIDER / f"{job}.jl"
        return records_of([path])

    def stop(self) -> None:
        """Stops the jobs still running, then Scrapyd itself, each by its pid."""
        try:
            running = self.get("listjobs.json")["running"] if self.process.poll() is None else []
        except OSError:
            running = []
        for job in running:
            if job["pid"]:
                try:
                    os.kill(job["pid"], signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


SCRAPYD_CONF = """\
[scrapyd]
bind_address = 127.0.0.1
http_port = {port}
eggs_dir = {directory}/eggs
logs_dir = {directory}/logs
items_dir = {directory}/items
dbs_dir = {directory}/dbs
# Jobs start within 0.2 s of being scheduled (the default polls every 5 s).
poll_interval = 0.2
max_proc = 4
"""


@pytest.fixture(scope="module")
def scrapyd(build: Build, tmp_path_factory: pytest.TempPathFactory,
            wordpress_sites: dict[str, WordPressSite]) -> Iterator[Scrapyd]:
    """A Scrapyd with the project deployed, and credentials for the plain site in its environment."""
    directory = tmp_path_factory.mktemp("scrapyd")
    home = directory / "home"
    home.mkdir()
    port = free_port()
    (directory / "scrapyd.conf").write_text(SCRAPYD_CONF.format(port=port, directory=directory), encoding="utf-8")
    site = wordpress_sites["plain"]
    credentials = directory / "credentials.json"
    credentials.write_text(json.dumps({site.url: {"username": site.username, "app_password": site.app_password}}),
                           encoding="utf-8")
    env = environment(HOME=str(home), WP_CREDENTIALS_FILE=str(credentials), PYTHONUNBUFFERED="1")
    # Scrapyd's jobs run from its directory: there, viewworld can only come from the egg.
    importable = subprocess.run([sys.executable, "-c", "import viewworld"], cwd=directory, env=env,
                                capture_output=True, check=False)
    assert importable.returncode != 0, "viewworld is importable outside the egg: the test would not test the egg"

    with (directory / "scrapyd.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=directory, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    server = Scrapyd(f"http://127.0.0.1:{port}", directory, process)
    try:
        _wait_until_listening(server)
        deploy(server, home, build.egg)
        yield server
    finally:
        server.stop()


def _wait_until_listening(server: Scrapyd, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"scrapyd exited with {server.process.returncode}:\n{server.log()[-3000:]}")
        try:
            server.get("daemonstatus.json")
        except OSError:
            time.sleep(0.1)
        else:
            return
    pytest.fail(f"scrapyd did not listen within {timeout} s:\n{server.log()[-3000:]}")


def deploy(server: Scrapyd, home: Path, egg: Path) -> None:
    """``scrapyd-deploy TARGET`` from the work tree, as the README's "Running on Scrapyd" says, with the target of
    this Scrapyd in ~/.scrapy.cfg (the project's scrapy.cfg names the Scrapyd on port 6800). It uploads the egg built
    above (``--egg``: the same build, done once) with ``addversion.json``."""
    (home / ".scrapy.cfg").write_text(f"[deploy:pytest]\nurl = {server.url}\nproject = {PROJECT}\n", encoding="utf-8")
    finished = subprocess.run([*SCRAPYD_DEPLOY, "pytest", "--egg", str(egg), "--version", "1"], cwd=ROOT,
                              capture_output=True, text=True, env=environment(HOME=str(home)), timeout=120, check=False)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    answer = json.loads(finished.stdout.strip().splitlines()[-1])
    assert (answer["status"], answer["project"], answer["spiders"]) == ("ok", PROJECT, 1), answer


@dataclass
class Job:
    id: str
    output_dir: Path
    state_dir: Path

    def items(self) -> list[dict[str, Any]]:
        return written_items(self.output_dir)


@pytest.fixture(scope="module")
def plain_job(scrapyd: Scrapyd, wordpress_sites: dict[str, WordPressSite],
              tmp_path_factory: pytest.TempPathFactory) -> Job:
    directory = tmp_path_factory.mktemp("scrapyd-job")
    output_dir, state_dir = directory / "output", directory / "state"
    started = time.monotonic()
    # _version=1 pins the deployed version: Scrapyd passes it on as a spider argument, like _job.
    job = scrapyd.schedule(f"site={wordpress_sites['plain'].url}", "_version=1",
                           settings={"OUTPUT_DIR": str(output_dir), "STATE_DIR": str(state_dir)})
    scrapyd.wait(job)
    print(f"\nscrapyd: schedule to finished in {time.monotonic() - started:.2f} s")
    return Job(job, output_dir, state_dir)


@pytest.mark.wordpress
def test_a_scheduled_job_takes_scrapyds_underscore_arguments_and_finishes_with_exit_status_0(scrapyd, plain_job):
    started = re.search(rf"Process started: .*job='{plain_job.id}'.*", scrapyd.log())
    assert started, scrapyd.log()[-3000:]
    assert f"'-a', '_job={plain_job.id}'" in started.group() and "'-a', '_version=1'" in started.group()
    assert scrapyd.exit_status(plain_job.id) == 0, scrapyd.job_log(plain_job.id)[-3000:]


@pytest.mark.wordpress
def test_the_job_writes_valid_records_of_every_published_post_to_output_dir(wordpress_sites, plain_job):
    files = list(plain_job.output_dir.glob("*/posts-*.jsonl"))
    assert len(files) == 1 and not list(plain_job.output_dir.glob("*/*.part"))
    items = plain_job.items()
    assert_valid_records(items)
    ids = [item["id"] for item in items]
    assert sorted(ids) == sorted(post["id"] for post in wordpress_sites["plain"].truth()["posts"])


@pytest.mark.wordpress
def test_credentials_come_from_scrapyds_environment_and_are_not_logged(wordpress_sites, scrapyd, plain_job):
    site = wordpress_sites["plain"]
    truth = {post["id"]: post["revisions"] for post in site.truth()["posts"]}
    revised = [item for item in plain_job.items() if truth[item["id"]]["count"]]
    assert revised
    for item in revised:
        assert len(item["revisions"]["items"]) == truth[item["id"]]["count"]
    assert site.app_password not in scrapyd.log() and site.app_password not in scrapyd.job_log(plain_job.id)


@pytest.mark.wordpress
def test_scrapyds_items_dir_feed_holds_the_same_posts_as_output_dir(scrapyd, plain_job):
    assert sorted(item["id"] for item in scrapyd.job_feed(plain_job.id)) == sorted(
        item["id"] for item in plain_job.items())


@pytest.mark.wordpress
def test_a_second_job_with_the_same_state_dir_is_incremental(scrapyd, wordpress_sites, plain_job, tmp_path):
    site = wordpress_sites["plain"]
    assert list(plain_job.state_dir.glob("*.json")), "the first job kept its state in STATE_DIR"
    job = scrapyd.schedule(f"site={site.url}", settings={"OUTPUT_DIR": str(tmp_path / "output"),
                                                         "STATE_DIR": str(plain_job.state_dir)})
    scrapyd.wait(job)
    assert scrapyd.exit_status(job) == 0, scrapyd.job_log(job)[-3000:]
    assert ": incremental crawl" in scrapyd.job_log(job)


@pytest.mark.wordpress
def test_of_two_overlapping_jobs_of_a_site_one_crawls_and_the_other_exits_4(scrapyd, wordpress_sites, tmp_path):
    """Scrapyd runs several jobs at once (max_proc): the site's lock in STATE_DIR lets one of them crawl."""
    settings = {"OUTPUT_DIR": str(tmp_path / "output"), "STATE_DIR": str(tmp_path / "state")}
    jobs = [scrapyd.schedule(f"site={wordpress_sites['pretty'].url}", settings=settings) for _ in range(2)]
    for job in jobs:
        scrapyd.wait(job)
    assert sorted(scrapyd.exit_status(job) for job in jobs) == [0, 4], scrapyd.log()[-3000:]
    assert len(list((tmp_path / "output").glob("*/posts-*.jsonl"))) == 1


@pytest.mark.wordpress
def test_a_job_whose_site_cannot_be_crawled_dies_with_exit_status_3_in_scrapyds_log(scrapyd, tmp_path):
    dead_site = f"http://127.0.0.1:{free_port()}"
    job = scrapyd.schedule(f"site={dead_site}", settings={"OUTPUT_DIR": str(tmp_path / "output"),
                                                          "STATE_DIR": str(tmp_path / "state")})
    scrapyd.wait(job)
    assert f"Process died: exitstatus=3 project='{PROJECT}' spider='{SPIDER}' job='{job}'" in scrapyd.log()
    assert f"{dead_site}: cannot be crawled" in scrapyd.job_log(job)
    # Scrapyd's API does not tell: the job is "finished" like any other.
    assert scrapyd.get("status.json", job=job, project=PROJECT)["currstate"] == "finished"
    assert not list((tmp_path / "output").glob("*/*.jsonl"))


@pytest.mark.wordpress
def test_a_job_with_a_bad_argument_dies_with_exit_status_2_and_scrapyd_logs_why(scrapyd, tmp_path):
    job = scrapyd.schedule("per_page=500", settings={"OUTPUT_DIR": str(tmp_path / "output"),
                                                     "STATE_DIR": str(tmp_path / "state")})
    scrapyd.wait(job)
    log = scrapyd.log()
    died = re.search(rf"Process died: exitstatus=2 project='{PROJECT}' spider='{SPIDER}' job='{job}' pid=(\d+)", log)
    assert died, log[-3000:]
    # The one line that says why goes to the job's standard error, which Scrapyd's own log records.
    assert f"[Launcher,{died.group(1)}/stderr] wpposts: argument per_page='500' is not valid" in log
