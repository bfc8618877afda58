"""Application passwords for the endpoints that need them (revisions). They come from the environment
or a file, never from arguments, and never appear in logs, items, stats or exceptions."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from w3lib.http import basic_auth_header

from viewworld.arguments import parse_site_url
from viewworld.sites import same_site

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapy.settings import BaseSettings


class CredentialsError(ValueError):
    """The credentials configuration is wrong; the message names the file or variable, never a secret."""


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)

    def __str__(self) -> str:
        return f"application password of {self.username}"

    def authorization(self) -> bytes:
        return basic_auth_header(self.username, self.password)


# Where credentials come from: the environment's variables, never arguments.
CREDENTIAL_VARIABLES = ("WP_USERNAME", "WP_APP_PASSWORD", "WP_CREDENTIALS_FILE")


def credentials_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether any credentials variable is set: then a crawl verifies every TLS certificate
    (``DOWNLOAD_VERIFY_CERTIFICATES``, which Scrapy leaves off), since an application password sent over TLS
    to a peer nobody checked goes to whoever answers for the host."""
    environ = os.environ if environ is None else environ
    return any(environ.get(name) for name in CREDENTIAL_VARIABLES)


def tls_unsafe_for_credentials(settings: BaseSettings, environ: Mapping[str, str] | None = None) -> str | None:
    """Why TLS would not keep a password to the site it is meant for, or None: certificates not verified, or the
    TLS session keys written to a file (``SSLKEYLOGFILE``, which Scrapy honours: whoever has the file and a
    capture reads the ``Authorization`` header)."""
    if not settings.getbool("DOWNLOAD_VERIFY_CERTIFICATES"):
        return "TLS certificates are not verified: DOWNLOAD_VERIFY_CERTIFICATES is off"
    if tls_keys_logged(environ):
        return "TLS session keys are written to SSLKEYLOGFILE"
    return None


def tls_keys_logged(environ: Mapping[str, str] | None = None) -> bool:
    """Whether Scrapy writes each TLS session's keys to a file (``SSLKEYLOGFILE``, unless Python ignores the
    environment), verified connections too."""
    environ = os.environ if environ is None else environ
    return bool(environ.get("SSLKEYLOGFILE")) and not sys.flags.ignore_environment


def _as_site(url: str) -> str:
    """A credentials file's site as sites are known (an international name in ASCII, as the crawl writes it)."""
    try:
        return parse_site_url(url)
    except ValueError:
        return url


def credentials_for_sites(sites: tuple[str, ...], environ: Mapping[str, str] | None = None, *,
                          single_site_variables: bool = True) -> dict[str, Credentials]:
    """Credentials by site URL.

    ``WP_CREDENTIALS_FILE`` names a JSON file ``{"https://site": {"username": ..., "app_password": ...}}``;
    ``WP_USERNAME`` and ``WP_APP_PASSWORD`` apply only to a single-site crawl (not to the sites a
    cluster worker takes from the shared queue: ``single_site_variables=False``).
    """
    environ = os.environ if environ is None else environ
    found: dict[str, Credentials] = {}
    path = environ.get("WP_CREDENTIALS_FILE")
    if path:
        entries = _read_credentials_file(path)
        for site in sites:
            for entry_site, credentials in entries.items():
                # An entry for https is not for the site given as http: its password would go in clear.
                downgrade = entry_site.strip().lower().startswith("https://") and site.startswith("http://")
                if same_site(site, _as_site(entry_site)) and not downgrade:
                    found[site] = credentials
    username, password = environ.get("WP_USERNAME"), environ.get("WP_APP_PASSWORD")
    if username and password and len(sites) == 1 and single_site_variables:
        found.setdefault(sites[0], Credentials(username, password))
    elif bool(username) != bool(password):
        missing = "WP_APP_PASSWORD" if username else "WP_USERNAME"
        raise CredentialsError(f"WP_USERNAME and WP_APP_PASSWORD go together: {missing} is not set")
    return found


def _read_credentials_file(path: str) -> dict[str, Credentials]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise CredentialsError(f"WP_CREDENTIALS_FILE {path}: cannot read it ({error.strerror})") from None
    except ValueError:
        raise CredentialsError(f"WP_CREDENTIALS_FILE {path}: not valid JSON") from None
    if not isinstance(data, dict):
        raise CredentialsError(f"WP_CREDENTIALS_FILE {path}: expected an object of site URL to credentials")
    entries = {}
    for site, entry in data.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("username"), str)
                and isinstance(entry.get("app_password"), str)):
            raise CredentialsError(f"WP_CREDENTIALS_FILE {path}: {site!r} needs a username and an app_password")
        entries[site] = Credentials(entry["username"], entry["app_password"])
    return entries
