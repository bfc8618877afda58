"""Turning the rendered HTML of a WordPress post into sanitized HTML, plain text, and the links,
images and embeds it holds.

The HTML is parsed once (libxml2, comments and processing instructions dropped) and walked once
(``viewworld.content_walk``): the walk drops what is not content (scripts, forms, sharing and
related-posts boxes), resolves URLs, promotes lazy-loading attributes, replaces embeds with a link
to what they embed, and writes the text as it goes. The tree it leaves behind is then serialized
and sanitized with ``nh3``.

Decisions a reader of the output should know:

- Text: one blank line between blocks (paragraphs, headings, lists, tables, figures, quotes,
  ``pre``, embeds); list items, table rows and captions are lines of their block, and a figure is
  one block (its table or embed, then its caption). Table cells are joined by a tab: it is
  whitespace to every tokenizer, and collapsed text never holds one. ``pre`` keeps its indentation
  (less what all its lines share); everything else has its whitespace collapsed, any Unicode space
  (no-break, narrow no-break, ideographic) included. Emoji and smilies that WordPress made images
  of are their ``alt`` text.
- Embeds (iframes, ``video``/``audio``, tweets, Instagram posts, WordPress post embeds, unrendered
  ``wp-block-embed`` URLs) are their URL on a line of their own in the text, and a link to that URL
  in the HTML.
- The HTML keeps ``_TAGS`` with ``_ATTRIBUTES``, ``http``/``https``/``mailto`` URLs only (no
  ``data:`` images), and escapes every ``[`` as ``&#91;``: a bracket left in cleaned HTML is
  text, and must not read as a shortcode when the HTML is cleaned again. Cleaning cleaned HTML
  changes nothing, except for misnested tag soup that libxml2 and nh3's html5ever nest
  differently (a ``p`` in an ``h1``): that settles after a second cleaning.
- Language: the ``lang`` of the element that holds all of the content, if one does.
"""

from __future__ import annotations

import html as html_entities
import re
from typing import TYPE_CHECKING, NamedTuple

import nh3
from lxml import etree

from viewworld.content_walk import FLOW, INLINE, ContentWalk
from viewworld.shortcodes import expand_shortcodes, has_shortcode
from viewworld.text import collapse_whitespace, count_words, drop_invisible

if TYPE_CHECKING:
    from lxml.etree import _Element

_TAGS = frozenset(
    {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd"}
    | {"blockquote", "figure", "figcaption", "pre", "code", "a", "img"}
    | {"table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td"}
    | {"em", "strong", "b", "i", "u", "s", "del", "ins", "sub", "sup", "mark", "small"}
    | {"abbr", "cite", "q", "time"}
)
_ATTRIBUTES = {
    "*": {"dir", "lang"},  # right-to-left text needs its direction
    "a": {"href", "title"},
    "img": {"src", "srcset", "sizes", "alt", "width", "height"},
    "ol": {"start", "reversed"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "abbr": {"title"},
    "time": {"datetime"},
}
_SANITIZER = nh3.Cleaner(
    tags=set(_TAGS),
    clean_content_tags={"script", "style", "template", "iframe", "object", "svg"},
    attributes=_ATTRIBUTES,
    url_schemes={"http", "https", "mailto"},
    link_rel=None,
)
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, encoding="utf-8")

_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_BYTES = bytes(byte for byte in range(256) if not _NOT_XML_RE.match(chr(byte)))
# A character reference to what XML forbids (``&#1;``): libxml2 decodes it, and lxml then refuses the text.
_NOT_XML_REFERENCE_RE = re.compile(
    r"&#(?:0*(?:[0-8]|1[1-24-9]|2[0-9]|3[01])(?![0-9])|[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F])(?![0-9a-fA-F]));?")
# Nearly every excerpt WordPress renders is one paragraph of text and entities, and most titles are
# text and entities: those skip the parse (a fifth of the cleaning's time went on excerpts).
_PLAIN_PARAGRAPH_RE = re.compile(r"[ \t\n\r]*<p>([^<>]*)</p>[ \t\n\r]*")
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,7})|([a-zA-Z]{1,8}));")
# Named entities WordPress writes, which libxml2 and Python's html module decode alike.
_PLAIN_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "nbsp", "hellip", "ndash", "mdash", "lsquo", "rsquo",
                             "ldquo", "rdquo", "laquo", "raquo"})
# A pre whose content starts with a newline (what an element the sanitizer unwrapped left first): HTML's
# parsers drop a newline right after <pre>, so it is written twice, as HTML's serialization says.
_PRE_LEADING_NEWLINE_RE = re.compile(r"(<pre\b[^>]*>\n)")
# A BCP 47 tag as HTML's lang and WordPress's locales (en_US) write them.
_LANGUAGE_RE = re.compile(r"[a-zA-Z]{2,3}(?:[-_][a-zA-Z0-9]{1,8})*")


class CleanedContent(NamedTuple):
    html: str
    text: str
    links: list[dict]
    images: list[dict]
    embeds: list[dict]
    word_count: int
    language: str | None = None


def clean_content(html: str, base_url: str) -> CleanedContent:
    """Sanitized HTML, text, links, images and embeds of a post's content; ``base_url`` is the
    post's link, which relative URLs resolve against and which ``internal`` links share a host with.

    >>> cleaned = clean_content('<p>See <a href="/about/">us</a></p><!--more--><p>Bye</p>',
    ...                         "https://www.example.org/2024/post/")
    >>> cleaned.html
    '<p>See <a href="https://www.example.org/about/">us</a></p><p>Bye</p>'
    >>> cleaned.text
    'See us\\n\\nBye'
    >>> cleaned.links
    [{'url': 'https://www.example.org/about/', 'text': 'us', 'internal': True}]
    """
    body = _parse(html)
    walk = ContentWalk(base_url)
    walk.element(body, FLOW, None)
    sanitized = _SANITIZER.clean(drop_invisible(etree.tostring(body, method="html", encoding="unicode")))
    if "<pre" in sanitized:
        sanitized = _PRE_LEADING_NEWLINE_RE.sub("\\1\n", sanitized)
    text = walk.text()
    return CleanedContent(
        html=sanitized.replace("[", "&#91;"),
        text=text,
        links=walk.links,
        images=walk.images,
        embeds=walk.embeds,
        word_count=count_words(text),
        language=content_language(body),
    )


def html_to_text(html: str) -> str:
    """Plain text of HTML, one blank line between blocks and one line per list item or table row.

    >>> html_to_text("<h2>Menu</h2><ul><li>Tea &amp; cake</li><li>Coffee</li></ul><p>[&hellip;]</p>")
    'Menu\\n\\nTea & cake\\nCoffee\\n\\n[…]'
    >>> html_to_text("<table><tr><th>City</th><th>Rain</th></tr><tr><td>Oslo</td><td>12 mm</td></tr></table>")
    'City\\tRain\\nOslo\\t12 mm'
    """
    text = _text_without_parse(html)
    return text if text is not None else _walked_text(html, FLOW)


def inline_text(html: str) -> str:
    """Text of HTML on one line: tags stripped, entities decoded, whitespace collapsed.

    >>> inline_text(" Russia&#8217;s  <em>long</em>\\n game&nbsp;")
    'Russia’s long game'
    """
    text = _text_without_parse(html)
    return text if text is not None else _walked_text(html, INLINE)


def _text_without_parse(html: str) -> str | None:
    """The text of HTML that is text and entities, bare (titles, names) or in one paragraph (excerpts,
    captions), on one line as either walk lays it out; None when it needs the parse."""
    if "<" in html:
        if (paragraph := _PLAIN_PARAGRAPH_RE.fullmatch(html)) is None:
            return None
        html = paragraph[1]
    text = _plain_text(html)
    return None if text is None else collapse_whitespace(text)


def _walked_text(html: str, mode: int) -> str:
    walk = ContentWalk("")
    walk.element(_parse(html), mode, None)
    return walk.text()


def _plain_text(text: str) -> str | None:
    """Text without tags decoded as libxml2 would decode it; None when that needs the parse: a
    character XML forbids, a shortcode, or an ``&`` that is not one of the entities WordPress writes.

    >>> _plain_text("Russia&#8217;s long game [&hellip;]"), _plain_text("Tom & Jerry")
    ('Russia’s long game […]', None)
    """
    if has_shortcode(text) or _NOT_XML_RE.search(text):
        return None
    if "&" not in text:
        return text
    entities = _ENTITY_RE.findall(text)
    if len(entities) != text.count("&"):
        return None
    for number, name in entities:
        if name and name not in _PLAIN_ENTITIES:
            return None
        if number and not (32 <= int(number) < 127 or 160 <= int(number) < 0xD800 or 0xE000 <= int(number) < 0xFFFE):
            return None
    return html_entities.unescape(text)


def content_language(body: _Element) -> str | None:
    """The ``lang`` of the outermost element that holds all of ``body``'s content, if one does.

    >>> content_language(_parse('<div lang="he" dir="rtl"><p>שלום</p><p>עולם</p></div>'))
    'he'
    >>> content_language(_parse('<p lang="fr">Bonjour</p><p>Hello</p>')) is None
    True
    """
    element = body
    while len(element) == 1 and not (element.text or "").strip() and not (element[0].tail or "").strip():
        element = element[0]
        if language := normalize_language(element.get("lang")):
            return language
    return None


def normalize_language(language: str | None) -> str | None:
    """A language tag in BCP 47's form, from an HTML ``lang`` or a WordPress locale; None if it is
    none.

    >>> normalize_language("en_US"), normalize_language(" pt-br "), normalize_language("")
    ('en-US', 'pt-br', None)
    """
    language = (language or "").strip()
    return language.replace("_", "-") if _LANGUAGE_RE.fullmatch(language) else None


def _parse(html: str) -> _Element:
    """The body of an HTML fragment, parsed by libxml2 as browsers parse a body's content."""
    # lxml refuses text with a character XML forbids (the walk sets text when it drops an
    # element), and libxml2 stops at a lone surrogate, which JSON can hold. Both are rare, and a
    # check of the UTF-8 bytes costs a tenth of a regex scan.
    try:
        data = html.encode()
    except UnicodeEncodeError:
        data = b"\0"
    if data.translate(None, delete=_XML_BYTES) or b"\xef\xbf" in data:  # U+FFC0-U+FFFF holds U+FFFE, U+FFFF
        html = _NOT_XML_RE.sub("", html)
        data = b""
    if ("&#" in html if not data else b"&#" in data) and _NOT_XML_REFERENCE_RE.search(html):
        html, data = _NOT_XML_REFERENCE_RE.sub("", html), b""
    if (expanded := expand_shortcodes(html)) != html:
        html, data = expanded, b""
    # libxml2 reads UTF-8 bytes faster than a str (which lxml hands it as UCS-4).
    root = etree.fromstring(b"<html><body>" + (data or html.encode()), _PARSER)
    if len(root) == 1 and root[0].tag == "body":  # nearly always (a search by name costs a sixth of the parse)
        return root[0]
    body = root.find("body")
    return body if body is not None else etree.fromstring(b"<html><body></body></html>", _PARSER).find("body")
