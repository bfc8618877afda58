"""The arguments ``wpposts`` accepts (``-a name=value``), declared, documented and validated in one place.

Every argument arrives as a string; a wrong one raises :class:`ArgumentError` with one line naming the
argument and the form it expects. Names starting with ``_`` are Scrapyd's (``_job``) and are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from viewworld.sites import site_key

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

DEFAULT_SITE = "https://www.viewworld.org"


class ArgumentError(ValueError):
    """A spider argument with a wrong name or value; the message is one line for the user."""


def _refuse_one_site_given_twice(sites: tuple[str, ...]) -> None:
    """Two URLs of one site (``http`` and ``https``, a port given that is the default) would share its
    state, lock and output, each run of one overwriting what the other knows."""
    seen: dict[str, str] = {}
    for site in sites:
        other = seen.setdefault(site_key(site), site)
        if other != site:
            raise ArgumentError(f"sites {other} and {site} are one site ({site_key(site)}): expected each site once")


@dataclass(frozen=True)
class Argument:
    name: str
    form: str
    """The expected form, as the error message and the README name it."""
    help: str
    parse: Callable[[str], Any]


def parse_site_url(value: str) -> str:
    """A site's base URL, normalised: scheme added, fragment and query dropped, no trailing slash.

    >>> parse_site_url("www.viewworld.org/")
    'https://www.viewworld.org'
    >>> parse_site_url("http://127.0.0.1:8080/news/")
    'http://127.0.0.1:8080/news'
    >>> parse_site_url("Bücher.de:8443")
    'https://xn--bcher-kva.de:8443'
    """
    value = value.strip()
    if "://" not in value:
        value = "https://" + value
    # Its errors never hold the value: a password may be in it (one with a space, a "/" or an "@" too).
    if holds_userinfo(value):
        raise ValueError("a user name or password in the URL: credentials go in WP_CREDENTIALS_FILE, or "
                         "WP_USERNAME and WP_APP_PASSWORD")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not (parts.hostname or "").strip(".") or " " in value:
        raise ValueError("malformed")  # one word: the caller shows the value, not this ("https://.." neither)
    try:
        port = parts.port
    except ValueError:
        raise ValueError("its port is not a number from 0 to 65535") from None
    netloc = parts.netloc.lower()
    if not netloc.isascii():  # Scrapy asks for bücher.de as xn--bcher-kva.de: the site is known by that name
        try:
            netloc = parts.hostname.encode("idna").decode("ascii") + ("" if port is None else f":{port}")
        except UnicodeError:
            raise ValueError("its host is no international domain name IDNA can write") from None
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


# A URL's authority when it holds no user name or password: a host (an IPv6 one in brackets) and a port.
_HOST_AND_PORT_RE = re.compile(r"(?:\[[0-9a-fA-F:.]*\]|[^:@\[\]]*)(?::\d*)?")


def holds_userinfo(url: str) -> bool:
    """Whether a URL holds a user name or password: an ``@`` in its authority, or an ``@`` further on after an
    authority that is no host and port (a password with a "/" in it).

    >>> [holds_userinfo(url) for url in ("https://editor:pw@example.org", "editor:pa/ss@example.org",
    ...                                  "https://example.org/@team", "http://[::1]:8080/@x", "/srv/a@b/sites.txt")]
    [True, True, False, False, False]
    """
    rest = url.strip().partition("://")[2] if "://" in url else url.strip()
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return "@" in authority or ("@" in rest and not _HOST_AND_PORT_RE.fullmatch(authority))


def without_userinfo(text: str) -> str:
    """A site URL, or several separated by commas, as an error may show it: the user name and password of one
    that holds them hidden, whatever the password holds (spaces, quotes, "/", "@"); several of which one holds them
    are not shown at all (a "," may be in the password).

    >>> without_userinfo("https://editor:abcd ef'gh/p@ss@example.org/news")
    'https://***@example.org/news'
    >>> without_userinfo("editor:s3cret@example.org"), without_userinfo("/srv/crawl@prod/sites.txt")
    ('***@example.org', '/srv/crawl@prod/sites.txt')
    >>> without_userinfo("https://a.example,https://editor:p,ss@b.example")
    '(not shown: it holds a user name or password)'
    """
    if not any(holds_userinfo(part) for part in (text, *text.split(","))):
        return text
    if "," in text:
        return "(not shown: it holds a user name or password)"
    head, separator, rest = text.partition("://")
    return (head + separator if separator else "") + "***@" + (rest if separator else text).rpartition("@")[2]


def parse_sites(value: str) -> tuple[str, ...]:
    sites = tuple(dict.fromkeys(parse_site_url(site) for site in value.split(",") if site.strip()))
    if not sites:
        raise ValueError(value)
    return sites


def parse_sites_file(value: str) -> tuple[str, ...]:
    try:
        lines = Path(value).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ValueError(f"cannot read {value}: {error.strerror}") from None
    sites = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    for number, site in enumerate(sites, 1):
        try:
            parse_site_url(site)
        except ValueError as error:
            detail = f" ({error})" if " " in str(error) else ""
            shown = repr(without_userinfo(site))
            raise ValueError(f"{value} line {number}: {shown} is not a site URL{detail}") from None
    if not sites:
        raise ValueError(f"{value} names no site")
    return parse_sites(",".join(sites))


def parse_count(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = int(value.strip())
        if number < minimum or (maximum is not None and number > maximum):
            raise ValueError(value)
        return number

    return parse


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_moment(value: str) -> datetime:
    """An ISO 8601 date or date-time as an aware UTC datetime; no offset means UTC.

    >>> parse_moment("2024-01-31T12:00:00+02:00").isoformat()
    '2024-01-31T10:00:00+00:00'
    >>> parse_moment("2024-01-31").isoformat()
    '2024-01-31T00:00:00+00:00'
    """
    moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_until(value: str) -> datetime:
    """Like :func:`parse_moment`, but a bare date means the end of that day."""
    moment = parse_moment(value)
    return moment + timedelta(days=1, microseconds=-1) if _DATE_ONLY.match(value.strip()) else moment


_TRUE, _FALSE = {"1", "true", "yes"}, {"0", "false", "no"}


def parse_flag(value: str) -> bool:
    word = value.strip().lower()
    if word not in _TRUE | _FALSE:
        raise ValueError(value)
    return word in _TRUE


ARGUMENTS: tuple[Argument, ...] = (
    Argument("site", "a site URL, or several separated by commas", f"the sites to crawl (default {DEFAULT_SITE})",
             parse_sites),
    Argument("sites_file", "the path of a readable file with one site URL per line",
             "crawl the sites listed in this file (blank lines and # comments ignored)", parse_sites_file),
    Argument("per_page", "a whole number from 1 to 100", "posts per API page (default 100)", parse_count(1, 100)),
    Argument("max_posts", "a whole number of at least 1", "stop after this many posts per site, for trials",
             parse_count(1)),
    Argument("since", "an ISO 8601 date or date-time, e.g. 2024-01-31 or 2024-01-31T12:00:00Z",
             "only posts published at or after this moment (no offset means UTC)", parse_moment),
    Argument("until", "an ISO 8601 date or date-time, e.g. 2024-01-31 or 2024-01-31T12:00:00Z",
             "only posts published at or before this moment (a bare date includes that whole day)", parse_until),
    Argument("full", "1/true/yes or 0/false/no",
             "crawl and write every post again, even those already written at their version", parse_flag),
    Argument("sweep", "1/true/yes or 0/false/no", "list every public id now to find deleted posts", parse_flag),
)
_BY_NAME = {argument.name: argument for argument in ARGUMENTS}


@dataclass(frozen=True)
class SiteOptions:
    """What the arguments ask of each site's crawl; a cluster's claim of a site carries them to the worker
    that pops it (:meth:`to_json`)."""

    full: bool = False
    sweep: bool = False
    per_page: int = 100

    def to_json(self) -> dict[str, object]:
        return {"full": self.full, "sweep": self.sweep, "per_page": self.per_page}

    @classmethod
    def from_json(cls, data: object) -> SiteOptions:
        """A claim's options; what a claim lacks (one queued by an older worker, or on recovery) is the default.

        >>> SiteOptions.from_json({"full": True, "per_page": 50, "other": 1})
        SiteOptions(full=True, sweep=False, per_page=50)
        """
        if not isinstance(data, dict):
            return cls()
        full, sweep, per_page = data.get("full"), data.get("sweep"), data.get("per_page")
        return cls(full is True, sweep is True,
                   per_page if isinstance(per_page, int) and not isinstance(per_page, bool) and 1 <= per_page <= 100
                   else 100)


@dataclass(frozen=True)
class CrawlArguments:
    sites: tuple[str, ...] = (DEFAULT_SITE,)
    per_page: int = 100
    max_posts: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    full: bool = False
    sweep: bool = False
    sites_given: bool = False
    """Whether ``site`` or ``sites_file`` was given (a cluster worker without them only helps)."""

    @property
    def site_options(self) -> SiteOptions:
        return SiteOptions(self.full, self.sweep, self.per_page)

    @property
    def one_off(self) -> bool:
        """A crawl limited by date or count neither reads nor advances the incremental state."""
        return bool(self.since or self.until or self.max_posts)

    @classmethod
    def parse(cls, raw: Mapping[str, object]) -> CrawlArguments:
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name.startswith("_"):
                continue
            argument = _BY_NAME.get(name)
            if argument is None:
                accepted = ", ".join(_BY_NAME)
                raise ArgumentError(f"unknown argument {name!r}: wpposts accepts {accepted}")
            try:
                values[name] = argument.parse(str(value))
            except ValueError as error:
                detail = f" ({error})" if " " in str(error) else ""
                raise ArgumentError(
                    f"argument {name}={without_userinfo(str(value))!r} is not valid: expected {argument.form}{detail}"
                ) from None
        sites = values.pop("site", ()) + values.pop("sites_file", ())
        if sites:
            values["sites"] = tuple(dict.fromkeys(sites))
            values["sites_given"] = True
            _refuse_one_site_given_twice(values["sites"])
        arguments = cls(**values)
        if arguments.since and arguments.until and arguments.since > arguments.until:
            raise ArgumentError("argument since is after until: expected since <= until")
        if arguments.sweep and arguments.one_off:
            limit = next(name for name in ("since", "until", "max_posts") if getattr(arguments, name))
            raise ArgumentError(f"argument sweep cannot be used with {limit}: a one-off crawl keeps no state to find "
                                "deleted posts in; sweep in a run without since, until and max_posts")
        return arguments
