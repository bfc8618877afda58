"""Background processes of the WordPress harness, started and stopped by their own PID."""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import signal
import socket
import subprocess
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
LOG_TAIL_LINES = 40


class HarnessError(RuntimeError):
    """MariaDB, PHP or WordPress did not start or answer as the harness expects."""


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or f"(empty log at {path})"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if the test run is killed outright, the kernel
    # stops mariadbd and php too instead of leaving them running.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def with_workers_stopped_on_exit(command: Sequence[str]) -> list[str]:
    """Wrap a server that forks workers (php -S) so they stop when it is told to stop or its parent dies.

    php -S leaves its workers running when it gets SIGTERM, and the kernel's parent-death signal
    reaches only the server; the wrapping shell passes either signal to the whole process group.
    """
    return ["sh", "-c", 'trap "trap - TERM INT; kill -TERM 0" TERM INT; "$@" & wait $!', command[0], *command]


class BackgroundProcess:
    """A server process in its own session, so stopping it also reaches the workers it forks.

    Start it from a thread that lives as long as it should: the kernel ties the parent-death
    signal to the starting thread.
    """

    def __init__(self, name: str, command: Sequence[str], log_path: Path,
                 env: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
        self.name = name
        self.log_path = log_path
        with log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None, cwd=cwd,
                start_new_session=True, preexec_fn=_die_with_parent,
            )
        _running.add(self)

    @property
    def pid(self) -> int:
        return self._process.pid

    def is_running(self) -> bool:
        return self._process.poll() is None

    def failure(self, what: str) -> HarnessError:
        return HarnessError(f"{self.name} (pid {self.pid}): {what}; last lines of {self.log_path}:\n"
                            f"{log_tail(self.log_path)}")

    def wait_until(self, is_ready: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not is_ready():
            if not self.is_running():
                raise self.failure(f"exited with status {self._process.returncode} before {what}")
            if time.monotonic() > deadline:
                raise self.failure(f"not {what} after {timeout:.0f} s")
            time.sleep(0.05)

    def stop(self, timeout: float = 15) -> None:
        _running.discard(self)
        if self.is_running():
            # The session id is this process's PID: the signal reaches it and its forked workers only.
            os.killpg(self.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self._process.wait()


_running: set[BackgroundProcess] = set()


@atexit.register
def _stop_forgotten_processes() -> None:
    for process in list(_running):
        process.stop(timeout=5)


def run_command(name: str, command: Sequence[str], *, input_text: str | None = None,
                env: Mapping[str, str] | None = None, timeout: float = 600) -> str:
    """Run a short command to completion; return its stdout or raise with its stderr."""
    try:
        completed = subprocess.run(command, input=input_text, capture_output=True, text=True,
                                   env=dict(env) if env is not None else None, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise HarnessError(f"{name}: no answer after {timeout:.0f} s") from error
    if completed.returncode != 0:
        output = "\n".join((completed.stderr + completed.stdout).splitlines()[-LOG_TAIL_LINES:])
        raise HarnessError(f"{name}: exit status {completed.returncode}:\n{output}")
    if completed.stderr.strip():
        logger.warning("%s wrote to stderr:\n%s", name, completed.stderr.strip())
    return completed.stdout
