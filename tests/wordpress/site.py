"""One real WordPress site: a copy of Debian's WordPress served by `php -S`, with its own database."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .processes import BackgroundProcess, HarnessError, free_port, run_command, with_workers_stopped_on_exit

if TYPE_CHECKING:
    from types import TracebackType

    from .mariadb import MariaDB

Permalinks = Literal["plain", "pretty"]

PERMALINK_STRUCTURES: dict[str, str] = {"plain": "", "pretty": "/%year%/%monthnum%/%postname%/"}
WORDPRESS_SOURCE = Path("/usr/share/wordpress")
PHP_DIRECTORY = Path(__file__).parent / "php"
THEME = "viewworld-test"
logger = logging.getLogger(__name__)

PHP_SERVER_WORKERS = 4
SERVER_START_ATTEMPTS = 3
SERVER_READY_TIMEOUT = 30
API_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="https://api\.w\.org/"')

WP_CONFIG = """<?php
// Written by tests/wordpress/site.py. Debian's own wp-config.php reads /etc/wordpress/config-HOST.php,
// which two sites on 127.0.0.1 would share.
define('DB_NAME', {database});
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', {database_host});
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
$table_prefix = 'wp_';

define('WP_HOME', {url});
define('WP_SITEURL', {url});
// 'local' lets application passwords work over plain http.
define('WP_ENVIRONMENT_TYPE', 'local');
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('WP_POST_REVISIONS', true);
define('WP_DEFAULT_THEME', {theme});
// No PHP notice may leak into a JSON answer.
define('WP_DEBUG', false);
define('WP_DEBUG_DISPLAY', false);
define('FS_METHOD', 'direct');
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY',
          'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as $key) {{
    define($key, 'viewworld-test-' . $key);
}}

if (PHP_SAPI === 'cli') {{
    // Scripts run from the command line see the $_SERVER a request to the home page would have.
    $_SERVER['HTTP_HOST'] = {host};
    $_SERVER['SERVER_NAME'] = '127.0.0.1';
    $_SERVER['SERVER_PORT'] = {port};
    $_SERVER['REQUEST_URI'] = '/';
    $_SERVER['REQUEST_METHOD'] = 'GET';
    $_SERVER['REMOTE_ADDR'] = '127.0.0.1';
}}

if (!defined('ABSPATH')) {{
    define('ABSPATH', __DIR__ . '/');
}}
require_once ABSPATH . 'wp-settings.php';
"""


class WordPressSite:
    """A WordPress 6.1 site on http://127.0.0.1:PORT, installed and seeded by tests/wordpress/php/*.php.

    Attributes once started and installed: `url` (no trailing slash), `permalinks` ("plain" or
    "pretty"), `api_root` (as the home page's Link header advertises it), `username`, `password`,
    `app_password` (an application password of the administrator, for HTTP basic auth),
    `error_log` (PHP warnings of requests), `directory` (the WordPress copy).
    """

    def __init__(self, directory: Path, database: MariaDB, permalinks: Permalinks = "plain") -> None:
        if permalinks not in PERMALINK_STRUCTURES:
            raise ValueError(f"permalinks must be one of {sorted(PERMALINK_STRUCTURES)}, not {permalinks!r}")
        self.directory = directory
        self.database = database
        self.permalinks: Permalinks = permalinks
        # One MariaDB serves several sites: the directory's name keeps their databases apart.
        self.database_name = "wordpress_" + re.sub(r"\W", "_", directory.name)
        self.port = 0
        self.username = ""
        self.password = ""
        self.app_password = ""
        self.api_root = ""
        self._server: BackgroundProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def error_log(self) -> Path:
        """Where PHP logs the warnings and errors of requests; absent while there are none."""
        return self.directory.parent / f"{self.directory.name}.php-errors.log"

    def start(self) -> None:
        """Copy WordPress, create the database and serve the copy; install() comes next."""
        self._copy_wordpress()
        self.database.create_database(self.database_name)
        self._serve()

    def install(self, posts: int, media: int = 0) -> dict[str, int]:
        """Install WordPress, seed `posts` published posts and discover the API root; return seed counts.
        ``media`` > 0 gives the site a media library of that many more images, featured round it (seed.php)."""
        started = time.monotonic()
        credentials = json.loads(self._run_script("install.php", PERMALINK_STRUCTURES[self.permalinks],
                                                  f"viewworld test site ({self.permalinks} permalinks)"))
        self.username = credentials["username"]
        self.password = credentials["password"]
        self.app_password = credentials["app_password"]
        installed = time.monotonic()
        counts: dict[str, int] = json.loads(self._run_script("seed.php", str(posts), "1", str(media)))
        self.api_root = self._discover_api_root()
        logger.info("%r: installed in %.1f s, seeded in %.1f s: %s", self, installed - started,
                    time.monotonic() - installed, counts)
        return counts

    def php(self, code: str, **arguments: Any) -> str:
        """Run PHP `code` (no opening tag) with WordPress loaded and return what it prints.

        Keyword arguments reach the code, JSON-decoded, as the array `$args`:
        `site.php("echo wp_trash_post($args['id'])->ID;", id=12)`.
        """
        return self._run_script("run.php", input_text=code, extra_env={"VIEWWORLD_ARGS": json.dumps(arguments)})

    def truth(self) -> dict[str, Any]:
        """What the database holds: every published post as the REST API would describe it, and more."""
        result: dict[str, Any] = json.loads(self._run_script("truth.php"))
        return result

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> WordPressSite:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<WordPressSite {self.permalinks} {self.url}>"

    def _copy_wordpress(self) -> None:
        # Debian's .htaccess and wp-config.php point into /etc/wordpress; the copy gets its own config.
        shutil.copytree(WORDPRESS_SOURCE, self.directory, symlinks=True,
                        ignore=shutil.ignore_patterns(".htaccess", "wp-config.php"))
        _replace_symlinks_by_their_targets(self.directory, WORDPRESS_SOURCE)
        content = self.directory / "wp-content"
        shutil.copytree(PHP_DIRECTORY / "theme", content / "themes" / THEME)
        shutil.copytree(PHP_DIRECTORY / "mu-plugins", content / "mu-plugins")

    def _write_config(self) -> None:
        values = {"database": self.database_name, "database_host": f"localhost:{self.database.socket}",
                  "url": self.url, "host": f"127.0.0.1:{self.port}", "port": str(self.port), "theme": THEME}
        config = WP_CONFIG.format(**{name: _php_string(value) for name, value in values.items()})
        (self.directory / "wp-config.php").write_text(config, encoding="utf-8")

    def _serve(self) -> None:
        # The free port can be taken between probing and binding; then php exits and another port is tried.
        for attempt in range(1, SERVER_START_ATTEMPTS + 1):
            self.port = free_port()
            self._write_config()
            self._server = BackgroundProcess(
                f"php -S {self.url} ({self.permalinks})",
                with_workers_stopped_on_exit([
                    "php", *self._php_options(), "-d", "display_errors=0", "-d", "log_errors=1",
                    "-d", f"error_log={self.error_log}", "-d", "opcache.enable_cli=1",
                    "-S", f"127.0.0.1:{self.port}", "-t", str(self.directory), str(PHP_DIRECTORY / "router.php"),
                ]),
                self.directory.parent / f"{self.directory.name}.php-server.log",
                env={**os.environ, "PHP_CLI_SERVER_WORKERS": str(PHP_SERVER_WORKERS)}, cwd=self.directory,
            )
            try:
                self._server.wait_until(self._accepts_connections, "listening", SERVER_READY_TIMEOUT)
                return
            except HarnessError:
                self.stop()
                if attempt == SERVER_START_ATTEMPTS:
                    raise

    def _accepts_connections(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def _discover_api_root(self) -> str:
        try:
            with urllib.request.urlopen(self.url + "/", timeout=30) as response:
                links = response.headers.get_all("Link") or []
        except urllib.error.HTTPError as error:
            error.close()
            raise self._failure(f"home page answered {error.code}") from error
        except OSError as error:
            raise self._failure(f"home page not reachable: {error}") from error
        for link in links:
            if match := API_LINK.search(link):
                return match.group(1)
        raise self._failure(f"home page has no Link rel=\"https://api.w.org/\" header (Link: {links})")

    def _failure(self, what: str) -> HarnessError:
        if self._server is None:
            return HarnessError(f"{self!r}: {what}")
        return self._server.failure(what)

    def _run_script(self, script: str, *arguments: str, input_text: str | None = None,
                    extra_env: dict[str, str] | None = None) -> str:
        command = ["php", *self._php_options(), "-d", "display_errors=stderr",
                   str(PHP_DIRECTORY / script), str(self.directory), *arguments]
        return run_command(f"{script} on {self!r}", command, input_text=input_text,
                           env={**os.environ, **(extra_env or {})})

    @staticmethod
    def _php_options() -> list[str]:
        return ["-d", "memory_limit=2G", "-d", "max_execution_time=0"]


def _php_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _replace_symlinks_by_their_targets(copy: Path, source: Path) -> None:
    # Debian links bundled libraries (getID3, underscore.js, the CA bundle) with relative symlinks,
    # which dangle in a copy. (copytree(symlinks=False) would skip them: it tests relative link
    # targets against the working directory.)
    for path in list(copy.rglob("*")):  # a list: a linked directory copied in is not walked again
        if path.is_symlink():
            target = (source / path.relative_to(copy)).resolve()
            path.unlink()
            if target.is_file():
                shutil.copy2(target, path)
            elif target.is_dir():  # none in bookworm's package; a later one may link a bundled library's folder
                shutil.copytree(target, path)
