"""A private MariaDB server for test sites: its own data directory and unix socket, no TCP."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .processes import BackgroundProcess, HarnessError, run_command

if TYPE_CHECKING:
    from types import TracebackType

READY_TIMEOUT = 60


class MariaDB:
    """One `mariadbd` shared by several sites, each in its own database; user root, no password."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket_directory: Path | None = None
        self._server: BackgroundProcess | None = None

    @property
    def socket(self) -> Path:
        if self.socket_directory is None:
            raise HarnessError("MariaDB is not started")
        return self.socket_directory / "mysqld.sock"

    def start(self) -> None:
        data_directory = self.directory / "data"
        self.directory.mkdir(parents=True, exist_ok=True)
        # A unix socket path may hold only ~107 bytes, and pytest's temporary directories are long.
        self.socket_directory = Path(tempfile.mkdtemp(prefix="vw-", dir="/tmp"))
        # Its own tmpdir: two installs at once in a shared /tmp collide on their temporary tables' names
        # (`Unknown table 'mysql.tmp_user_sys'`), as the benchmark's parallel sites showed.
        temporary_directory = self.directory / "tmp"
        temporary_directory.mkdir(exist_ok=True)
        run_command("mariadb-install-db", [
            "mariadb-install-db", "--no-defaults", f"--datadir={data_directory}", "--skip-test-db",
            f"--tmpdir={temporary_directory}",
            "--auth-root-authentication-method=normal", "--skip-name-resolve", *self._user_option(),
        ])
        self._server = BackgroundProcess("mariadbd", [
            "mariadbd", "--no-defaults", f"--datadir={data_directory}", f"--socket={self.socket}",
            f"--pid-file={self.directory / 'mariadbd.pid'}", f"--tmpdir={temporary_directory}", "--skip-networking", "--skip-name-resolve",
            "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
            "--innodb-buffer-pool-size=256M", "--max-connections=500",
            # Test data need not survive a crash; not syncing every commit makes seeding several times faster.
            "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--sync-binlog=0",
            *self._user_option(),
        ], self.directory / "mariadbd.log")
        self._server.wait_until(self._answers_ping, "accepting connections", READY_TIMEOUT)

    def create_database(self, name: str) -> None:
        self.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")

    def execute(self, sql: str) -> str:
        return run_command("mariadb", ["mariadb", "--no-defaults", f"--socket={self.socket}", "--user=root",
                                       "--batch", "--execute", sql])

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self.socket_directory is not None:
            shutil.rmtree(self.socket_directory, ignore_errors=True)
            self.socket_directory = None

    def __enter__(self) -> MariaDB:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def _answers_ping(self) -> bool:
        ping = subprocess.run(["mariadb-admin", "--no-defaults", f"--socket={self.socket}", "--user=root",
                               "--connect-timeout=1", "ping"], capture_output=True, check=False)
        return ping.returncode == 0

    @staticmethod
    def _user_option() -> list[str]:
        # mariadbd refuses to run as root unless told to.
        return ["--user=root"] if os.geteuid() == 0 else []
