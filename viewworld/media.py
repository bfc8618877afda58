"""What a post's HTML embeds and shows: embeds (iframes, tweets, Instagram posts...), images and
their ``srcset`` candidates, lazy-loading attributes, and the URL helpers they share."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from w3lib.html import strip_html5_whitespace

if TYPE_CHECKING:
    from lxml.etree import _Element

# Blockquotes that embed scripts turn into embeds, by class, and the provider they stand for.
_EMBED_BLOCKQUOTES = {
    "twitter-tweet": "twitter",
    "twitter-video": "twitter",
    "instagram-media": "instagram",
    "tiktok-embed": "tiktok",
    "wp-embedded-content": "wordpress",
}
_EMBED_HOSTS = {
    "youtube.com": "youtube", "youtu.be": "youtube", "youtube-nocookie.com": "youtube",
    "vimeo.com": "vimeo", "twitter.com": "twitter", "x.com": "twitter", "instagram.com": "instagram",
    "facebook.com": "facebook", "tiktok.com": "tiktok", "spotify.com": "spotify",
    "soundcloud.com": "soundcloud", "dailymotion.com": "dailymotion",
}  # fmt: skip
# Where an embed can become a paragraph; anywhere else it becomes a bare link.
_FLOW_PARENTS = frozenset({"body", "div", "figure", "blockquote", "li", "dd", "td", "th", "section", "article"})
# Later pairs win: WP Rocket's data-lazy-* over the data-* of other lazy loaders.
_LAZY_ATTRIBUTES = (  # the later win: data-src, the most common, last
    ("data-original", "src"), ("data-orig-src", "src"),  # lazyload.js and jQuery Lazy; Avada
    ("data-src", "src"), ("data-lazy-src", "src"), ("data-srcset", "srcset"), ("data-lazy-srcset", "srcset"),
)  # fmt: skip
# A srcset candidate's URL runs to the first space, or to commas followed by a space or the end (HTML's
# algorithm); its descriptor, if a space follows the URL, to the next comma.
_SRCSET_GAP_RE = re.compile(r"[\s,]*")
_SRCSET_URL_RE = re.compile(r"\S+")
_SRCSET_DESCRIPTOR_RE = re.compile(r"\s+([^,]*),?|")
_DIMENSION_RE = re.compile(r"\s*(\d{1,9})(?:\.\d*)?(?:px)?\s*")


def embed_of(element: _Element, tag: str, base_url: str) -> tuple[str, str] | None:
    """The provider and URL of what ``element`` (an iframe, video, audio, blockquote or div)
    embeds, if it is an embed."""
    classes = (element.get("class") or "").split()
    if tag in ("iframe", "video", "audio"):
        if "wp-embedded-content" in classes:  # a hidden copy of the blockquote before it
            return None
        promote_lazy_attributes(element)
        source = element.get("src") or next((s.get("src") for s in element.iter("source") if s.get("src")), "")
        url = absolute_url(source, base_url) if strip_html5_whitespace(source) else None  # "" is the post itself
        return (embed_provider(url, tag), url) if url and is_http(url) else None
    if tag == "blockquote":
        provider = next((_EMBED_BLOCKQUOTES[c] for c in classes if c in _EMBED_BLOCKQUOTES), None)
        if provider is None:
            return None
        hrefs = [href for link in element.iter("a") if (href := link.get("href"))]
        source = element.get("data-instgrm-permalink") or element.get("cite") or (hrefs[-1] if hrefs else "")
        url = absolute_url(source, base_url) if strip_html5_whitespace(source) else None
        if provider in ("twitter", "instagram") and url:
            url = url.split("?")[0]  # only tracking parameters follow
        return (provider, url) if url and is_http(url) else None
    if tag == "div" and "wp-block-embed__wrapper" in classes and len(element) == 0:  # not rendered by oEmbed
        url = absolute_url(element.text or "", base_url)
        if not url or not is_http(url):
            return None
        figure_classes = (element.getparent().get("class") or "").split()  # type: ignore[union-attr]
        named = [c.removeprefix("is-provider-") for c in figure_classes if c.startswith("is-provider-")]
        return (named[0] if named else embed_provider(url, "embed")), url
    return None


def embed_provider(url: str, default: str = "iframe") -> str:
    """The provider of embedded content, from its URL's host.

    >>> embed_provider("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ")
    'youtube'
    >>> embed_provider("https://maps.example.com/embed?x=1")
    'iframe'
    """
    host = _host(url)
    for domain, provider in _EMBED_HOSTS.items():
        if host == domain or host.endswith("." + domain):
            return provider
    return default


def replace_with_link(element: _Element, url: str) -> None:
    """Replaces an embed with a link to what it embeds, in a paragraph where one can stand."""
    parent = element.getparent()
    assert parent is not None
    link = element.makeelement("a", {"href": url})
    link.text = url
    replacement = link
    if parent.tag in _FLOW_PARENTS:
        replacement = element.makeelement("p", {})
        replacement.append(link)
    replacement.tail = element.tail
    parent.replace(element, replacement)


def srcset_candidates(srcset: str) -> list[tuple[str, str]]:
    """The (URL, descriptor) candidates of a ``srcset``.

    >>> srcset_candidates("a.jpg 300w,b,c.jpg 2x, d.jpg,, e.jpg")
    [('a.jpg', '300w'), ('b,c.jpg', '2x'), ('d.jpg', ''), ('e.jpg', '')]
    """
    candidates = []
    position, end = 0, len(srcset)
    while (position := _SRCSET_GAP_RE.match(srcset, position).end()) < end:  # type: ignore[union-attr]
        url_match = _SRCSET_URL_RE.match(srcset, position)
        assert url_match is not None  # the gap stops at a character that is no space and no comma
        url, position = url_match[0], url_match.end()
        if url.endswith(","):
            candidates.append((url.rstrip(","), ""))
            continue
        descriptor = _SRCSET_DESCRIPTOR_RE.match(srcset, position)
        assert descriptor is not None  # it can match nothing
        candidates.append((url, descriptor[1] or ""))
        position = descriptor.end()
    return candidates


def largest_srcset_candidate(candidates: list[tuple[str, str]]) -> tuple[str, int | None] | None:
    """The URL of the largest of a ``srcset``'s (URL, descriptor) candidates (by width descriptor, else
    by density), and its width if it has one.

    >>> largest_srcset_candidate(srcset_candidates("a-300x200.jpg 300w, a-1024x683.jpg 1024w, a-768x512.jpg 768w"))
    ('a-1024x683.jpg', 1024)
    >>> largest_srcset_candidate(srcset_candidates("a.jpg, a@2x.jpg 2x"))
    ('a@2x.jpg', None)
    >>> largest_srcset_candidate(srcset_candidates(" , ")) is None
    True
    """
    widths: list[tuple[int, str]] = []
    densities: list[tuple[float, str]] = []
    for url, descriptor in candidates:
        descriptor = descriptor.strip().lower()
        try:
            if descriptor.endswith("w"):
                widths.append((int(descriptor[:-1]), url))
            else:
                densities.append((float(descriptor[:-1]) if descriptor.endswith("x") else 1.0, url))
        except ValueError:  # a descriptor this parser does not know, e.g. "100h"
            continue
    if widths:
        width, url = max(widths, key=lambda candidate: candidate[0])
        return url, width
    if densities:
        return max(densities, key=lambda candidate: candidate[0])[1], None
    return None


def dimension(value: str | None) -> int | None:
    """A ``width`` or ``height`` attribute as whole pixels, if it is a number of them.

    >>> dimension("300px"), dimension(" 12.5 "), dimension("auto")
    (300, 12, None)
    """
    match = _DIMENSION_RE.fullmatch(value or "")
    return int(match[1]) if match else None


def promote_lazy_attributes(element: _Element) -> None:
    """Moves the real URLs of a lazy-loaded image or iframe (``data-src``...) where they belong."""
    for lazy, real in _LAZY_ATTRIBUTES:
        if value := element.get(lazy):
            element.set(real, value)


def absolute_url(url: str, base_url: str) -> str | None:
    """``url`` resolved against ``base_url``, or None if either cannot be parsed.

    >>> absolute_url(" ../b/ ", "https://example.org/a/post/")
    'https://example.org/a/b/'
    """
    url = strip_html5_whitespace(url)
    if _is_plain_absolute(url) and _parses(base_url):
        return url  # what urljoin would return, at a tenth of its cost: most URLs in a post are such
    try:
        return urljoin(base_url, url)
    except ValueError:  # e.g. an unclosed IPv6 host, "http://[::1"
        return None


_PLAIN_ABSOLUTE_RE = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[^\s;\[\]]*)?")


@lru_cache(maxsize=256)
def _parses(url: str) -> bool:
    if _is_plain_absolute(url):  # a post's own link, new with every post: no urlsplit needed
        return True
    try:
        urlsplit(url)
    except ValueError:
        return False
    return True


def _is_plain_absolute(url: str) -> bool:
    """Whether ``url`` is an http(s) URL with a plain host that ``urljoin`` returns unchanged against any base
    it can parse: no whitespace, ``;``, brackets or non-ASCII host, no empty ``?`` or ``#`` at its end.

    >>> _is_plain_absolute("https://e.org/a/b.jpg?w=1#x"), _is_plain_absolute("https://e.org/a?")
    (True, False)
    """
    return (_PLAIN_ABSOLUTE_RE.fullmatch(url) is not None and not url.endswith(("?", "#")) and "?#" not in url)


def is_http(url: str) -> bool:
    return url[:8].lower().startswith(("http://", "https://"))


def site_host(url: str) -> str:
    """The host of ``url`` without ``www.``, as links are compared with the post's own host."""
    return _host(url).removeprefix("www.")


def _host(url: str) -> str:
    if _is_plain_absolute(url):
        return url.split("/", 3)[2].partition(":")[0].lower()
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""
