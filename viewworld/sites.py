"""A site being crawled: its address, its scope, its API root and how far its crawl has got."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from viewworld.credentials import Credentials
    from viewworld.wordpress import ApiRoot

_DEFAULT_PORTS = {"http": 80, "https": 443}


def site_key(url: str) -> str:
    """The name a site's output goes under: its host, with the port when it is not the default.

    >>> site_key("https://www.viewworld.org")
    'www.viewworld.org'
    >>> site_key("http://127.0.0.1:8080/news")
    '127.0.0.1_8080'
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        return f"{host}_{parts.port}"
    return host


def _bare_host(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def same_site(url: str, other: str) -> bool:
    """Whether two URLs belong to one site: the same host give or take ``www.``, the same port
    (a default port counts as the scheme's), any scheme.

    >>> same_site("http://viewworld.org/", "https://www.viewworld.org/wp-json/")
    True
    >>> same_site("https://www.viewworld.org/", "https://cdn.example.com/")
    False
    >>> same_site("http://127.0.0.1:8080/", "http://127.0.0.1:8081/")
    False
    """
    first, second = urlsplit(url), urlsplit(other)
    if first.scheme not in _DEFAULT_PORTS or second.scheme not in _DEFAULT_PORTS:
        return False
    if _bare_host(first.hostname or "") != _bare_host(second.hostname or ""):
        return False
    first_port = first.port or _DEFAULT_PORTS[first.scheme]
    second_port = second.port or _DEFAULT_PORTS[second.scheme]
    # http -> https redirects change the default port along with the scheme.
    default_ports = set(_DEFAULT_PORTS.values())
    return first_port == second_port or (first_port in default_ports and second_port in default_ports)


@dataclass
class Site:
    url: str
    """The base URL, no trailing slash; after the home page's redirects, the final address."""
    origin: str = ""
    """The URL as given; it names the site for the whole crawl, whatever its redirects."""
    credentials: Credentials | None = None
    api_root: ApiRoot | None = None
    total: int | None = None
    """``X-WP-Total`` of the first posts page, when the site sends it."""
    pages_in_flight: int = 0
    post_ids: set[int] = field(default_factory=set)
    failure: str | None = None
    """Why the site could not be crawled at all, in one line; None while it can."""

    def __post_init__(self) -> None:
        self.origin = self.origin or self.url

    @property
    def key(self) -> str:
        return site_key(self.url)

    def in_scope(self, url: str) -> bool:
        return same_site(self.url, url)

    def adopt(self, final_url: str) -> None:
        """Takes the scheme and host the home page redirected to (http to https, ``www.`` added or
        dropped); the path stays, since a redirect to ``/en/`` does not move the API."""
        final, current = urlsplit(final_url), urlsplit(self.url)
        self.url = f"{final.scheme}://{final.netloc}{current.path}"
