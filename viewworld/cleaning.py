"""Turning the rendered HTML of a WordPress post into sanitized HTML, plain text, and the links,
images and embeds it holds.

The HTML is parsed once (``lxml.html``) and walked once: the walk drops what is not content
(scripts, forms, comments, sharing and related-posts boxes), resolves URLs, promotes lazy-loading
attributes, replaces embeds with a link to what they embed, and writes the text as it goes. The
tree it leaves behind is then serialized and sanitized with ``nh3``.

Decisions a reader of the output should know:

- Text: one blank line between blocks (paragraphs, headings, lists, tables, figures, quotes,
  ``pre``, embeds); list items, table rows and captions are lines of their block, and a figure is
  one block (its table or embed, then its caption). Table cells are joined by a tab: it is
  whitespace to every tokenizer, and collapsed text never holds one. ``pre`` keeps its indentation
  (less what all its lines share); everything else has its whitespace collapsed.
- Embeds (iframes, ``video``/``audio``, tweets, Instagram posts, WordPress post embeds, unrendered
  ``wp-block-embed`` URLs) are their URL on a line of their own in the text, and a link to that URL
  in the HTML.
- The HTML keeps ``_TAGS`` with ``_ATTRIBUTES``, ``http``/``https``/``mailto`` URLs only (no
  ``data:`` images), and escapes every ``[`` as ``&#91;``: a bracket left in cleaned HTML is
  text, and must not read as a shortcode when the HTML is cleaned again. Cleaning cleaned HTML
  changes nothing, except for misnested tag soup that libxml2 and nh3's html5ever nest
  differently (a ``p`` in an ``h1``): that settles after a second cleaning.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import nh3
from lxml import html as lxml_html
from w3lib.html import strip_html5_whitespace

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

# Elements whose content is never article text.
_DROPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "title", "meta", "link", "base"}
    | {"form", "input", "button", "select", "option", "optgroup", "textarea", "datalist", "fieldset"}
    | {"object", "embed", "applet", "param", "svg", "canvas", "xmp", "plaintext", "noembed", "noframes"}
)
# Boxes that sharing, related-posts, newsletter and breadcrumb plugins add to the content.
_BOILERPLATE_CLASSES = frozenset(
    {"sharedaddy", "sd-sharing-enabled", "sd-block", "jetpack-likes-widget-wrapper", "jp-relatedposts"}
    | {"wp-block-jetpack-subscriptions", "wp-block-jetpack-mailchimp", "wp-block-jetpack-contact-form"}
    | {"wp-block-jetpack-related-posts", "wp-block-jetpack-sharing-buttons", "wp-block-jetpack-like"}
    | {"addtoany_share_save_container", "a2a_kit", "addtoany_list", "heateor_sss_sharing_container"}
    | {"swp_social_panel", "shared-counts-wrap", "yarpp-related", "crp_related", "mc4wp-form"}
    | {"yoast-breadcrumbs", "rank-math-breadcrumb"}
)
_BOILERPLATE_IDS = frozenset({"jp-relatedposts", "jp-post-flair", "breadcrumbs"})

_BLOCK_TAGS = frozenset(
    {"p", "pre", "hr", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "blockquote", "figure"}
    | {"section", "article", "header", "footer", "aside", "nav", "main", "address", "details", "center"}
)
_LINE_TAGS = frozenset({"li", "dt", "dd", "tr", "figcaption", "caption", "summary"})
_CELL_TAGS = frozenset({"td", "th"})
# Where an embed can become a paragraph; anywhere else it becomes a bare link.
_FLOW_PARENTS = frozenset({"body", "div", "figure", "blockquote", "li", "dd", "td", "th", "section", "article"})

_EMBED_TAGS = frozenset({"iframe", "video", "audio", "blockquote", "div"})  # div: an unrendered embed block
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
# Later pairs win: WP Rocket's data-lazy-* over the data-* of other lazy loaders.
_LAZY_ATTRIBUTES = (
    ("data-src", "src"), ("data-lazy-src", "src"), ("data-srcset", "srcset"), ("data-lazy-srcset", "srcset"),
)  # fmt: skip

_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_BYTES = bytes(byte for byte in range(256) if not _NOT_XML_RE.match(chr(byte)))
_INVISIBLE = "\u00ad\u200b\u2060\ufeff"  # soft hyphen, zero-width space, word joiner, BOM
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
# Runs of whitespace other than a lone space (which needs no replacing, and is most of them).
_SPACES_RE = re.compile("[\t\n\r\f\v\u00a0][ \t\n\r\f\v\u00a0]*| [ \t\n\r\f\v\u00a0]+")
# ZWNJ and ZWJ shape Persian, Indic and emoji; one that touches a space or an edge shapes nothing.
_STRAY_JOINER_RE = re.compile(r"(?<!\S)[\u200c\u200d]+|[\u200c\u200d]+(?!\S)")
_CELL_SEPARATOR = "\x00"  # joins cells while a line is built; becomes a tab once its spaces are collapsed
_CELL_SEPARATOR_RE = re.compile(" ?\x00 ?")

_SHORTCODE_RE = re.compile(
    r"""(?P<literal><(?P<code>pre|code)\b.*?</(?P=code)\s*>)
      | \[caption\b(?P<caption_attributes>[^\]]*)\](?P<caption>.*?)\[/caption\]
      | \[embed\b[^\]]*\](?P<embed>[^\[<]*)\[/embed\]
      | \[(?P<closing>/)?(?P<name>[a-zA-Z][\w-]*)(?P<attributes>\s[^\[\]]*)?/?\]""",
    re.DOTALL | re.IGNORECASE | re.VERBOSE,
)
_CLOSING_SHORTCODE_RE = re.compile(r"\[/([a-zA-Z][\w-]*)\]")
_WORDPRESS_SHORTCODES = frozenset({"caption", "gallery", "embed", "audio", "video", "playlist", "wp_caption"})
_CAPTION_ATTRIBUTE_RE = re.compile(r"""\bcaption=(?:"([^"]*)"|'([^']*)')""")
_TRAILING_TEXT_RE = re.compile(r"(.*>)([^<>]*)$", re.DOTALL)

# A candidate's URL runs to the first space, or to commas followed by a space or the end.
_SRCSET_CANDIDATE_RE = re.compile(r"[\s,]*([^\s,]\S*?)(?:,+(?=\s|$)|\s+([^,]*)(?:,|$)|$)")
_DIMENSION_RE = re.compile(r"\s*(\d{1,9})(?:\.\d*)?(?:px)?\s*")

# Words are counted on UTF-8 bytes, a character classed by its leading byte, hence by its block:
# ASCII letters and digits, and U+00C0-U+1FFF (accented Latin, Greek, Cyrillic, Hebrew, Arabic,
# Indic, their combining marks too) make words; ASCII punctuation, U+0080-U+00BF (no-break space,
# guillemets), U+2000-U+2FFF (dashes, quotes, symbols) and U+E000 on (fullwidth punctuation, emoji)
# separate them; and U+3040-U+DFFF (kana, CJK ideographs, hangul) is a word per character.
_UTF8_CLASSES = bytes(
    (ord("a") if chr(byte).isalnum() or byte == ord("_") else ord(" ")) if byte < 0x80
    else ord("a") if 0xC3 <= byte <= 0xE1
    else ord("c") if 0xE3 <= byte <= 0xED
    else ord(" ")
    for byte in range(256)
)  # fmt: skip
_UTF8_CONTINUATION_BYTES = bytes(range(0x80, 0xC0))
_UTF8_CJK_PUNCTUATION = b"\xe3\x80"  # U+3000-U+303F: ideographic space, 、。「」


@dataclass(frozen=True)
class CleanedContent:
    html: str
    text: str
    links: list[dict]
    images: list[dict]
    embeds: list[dict]
    word_count: int


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
    walk = _Walk(base_url)
    walk.element(body, _FLOW, None)
    sanitized = _SANITIZER.clean(_drop_invisible(lxml_html.tostring(body, encoding="unicode")))
    text = walk.text()
    return CleanedContent(
        html=sanitized.replace("[", "&#91;"),
        text=text,
        links=walk.links,
        images=walk.images,
        embeds=walk.embeds,
        word_count=count_words(text),
    )


def html_to_text(html: str) -> str:
    """Plain text of HTML, one blank line between blocks and one line per list item or table row.

    >>> html_to_text("<h2>Menu</h2><ul><li>Tea &amp; cake</li><li>Coffee</li></ul><p>[&hellip;]</p>")
    'Menu\\n\\nTea & cake\\nCoffee\\n\\n[…]'
    >>> html_to_text("<table><tr><th>City</th><th>Rain</th></tr><tr><td>Oslo</td><td>12 mm</td></tr></table>")
    'City\\tRain\\nOslo\\t12 mm'
    """
    walk = _Walk("")
    walk.element(_parse(html), _FLOW, None)
    return walk.text()


def inline_text(html: str) -> str:
    """Text of HTML on one line: tags stripped, entities decoded, whitespace collapsed.

    >>> inline_text(" Russia&#8217;s  <em>long</em>\\n game&nbsp;")
    'Russia’s long game'
    """
    if "<" not in html and "&" not in html and "[" not in html:
        return _collapse(html)
    walk = _Walk("")
    walk.element(_parse(html), _INLINE, None)
    return walk.text()


def count_words(text: str) -> int:
    """The number of words in ``text``: runs of letters, digits and combining marks, as a regex
    ``\\w+`` finds them but unsplit by a zero-width (non-)joiner, except that each CJK ideograph,
    kana and hangul syllable is a word of its own, as those scripts put no spaces between words.
    Scripts such as Thai that do not either count a phrase as one word; emoji are no words.
    Counted on UTF-8 bytes, by Unicode block (see ``_UTF8_CLASSES``): a ``\\w+`` regex costs
    eight times as much, about as much as all the rest of the cleaning of a post.

    >>> count_words("Biden said — in 2022: “हिन्दी है”")
    6
    >>> count_words("東京は晴れ。 Tokyo")
    6
    """
    if "\u200c" in text or "\u200d" in text:
        text = text.replace("\u200c", "").replace("\u200d", "")
    data = text.encode(errors="replace")
    if _UTF8_CJK_PUNCTUATION in data:
        data = data.replace(_UTF8_CJK_PUNCTUATION, b" ")
    data = data.translate(_UTF8_CLASSES, delete=_UTF8_CONTINUATION_BYTES)
    words = data.count(b" a") + data.startswith(b"a")
    if b"c" in data:
        words += data.count(b"c") + data.count(b"ca")
    return words


def expand_shortcodes(html: str) -> str:
    """HTML with the shortcodes WordPress left unrendered unwrapped: ``[caption]`` becomes a figure
    with a figcaption, ``[embed]`` an embed block, and other shortcode tags are dropped, their
    content kept. A bracketed word is a shortcode if it has attributes, an underscore or hyphen, a
    closing tag, or a WordPress name, so "[sic]" stays. So does anything inside ``pre`` or ``code``.

    >>> expand_shortcodes('[vc_row][vc_column_text]Hi [sic][/vc_column_text][/vc_row][gallery ids="1,2"]')
    'Hi [sic]'
    >>> expand_shortcodes('[caption id="a1"]<img src="a.jpg"> The lake[/caption]')
    '<figure class="wp-caption"><img src="a.jpg"><figcaption class="wp-caption-text">The lake</figcaption></figure>'
    """
    while True:
        closed = set(_CLOSING_SHORTCODE_RE.findall(html))
        expanded = _SHORTCODE_RE.sub(lambda match: _expand_shortcode(match, closed), html)
        if expanded == html:  # removing a shortcode can join the halves of another
            return expanded
        html = expanded


def _expand_shortcode(match: re.Match[str], closed: set[str]) -> str:
    if match["literal"] is not None:
        return match["literal"]
    if match["caption"] is not None:
        content, caption = match["caption"], ""
        if trailing := _TRAILING_TEXT_RE.match(content):
            content, caption = trailing.groups()
        if not caption.strip() and (attribute := _CAPTION_ATTRIBUTE_RE.search(match["caption_attributes"])):
            caption = attribute[1] or attribute[2] or ""
        caption_html = f'<figcaption class="wp-caption-text">{caption.strip()}</figcaption>' if caption.strip() else ""
        return f'<figure class="wp-caption">{content.strip()}{caption_html}</figure>'
    if match["embed"] is not None:
        return f'<figure class="wp-block-embed"><div class="wp-block-embed__wrapper">{match["embed"]}</div></figure>'
    name, attributes = match["name"], match["attributes"] or ""
    is_shortcode = (
        match["closing"] or "=" in attributes or "_" in name or "-" in name
        or name.lower() in _WORDPRESS_SHORTCODES or name in closed
    )  # fmt: skip
    return "" if is_shortcode else match[0]


def largest_srcset_candidate(srcset: str) -> tuple[str, int | None] | None:
    """The URL of the largest candidate of a ``srcset`` (by width descriptor, else by density),
    and its width if it has one.

    >>> largest_srcset_candidate("a-300x200.jpg 300w, a-1024x683.jpg 1024w, a-768x512.jpg 768w")
    ('a-1024x683.jpg', 1024)
    >>> largest_srcset_candidate("a.jpg, a@2x.jpg 2x")
    ('a@2x.jpg', None)
    >>> largest_srcset_candidate(" , ") is None
    True
    """
    widths: list[tuple[int, str]] = []
    densities: list[tuple[float, str]] = []
    for url, descriptor in _SRCSET_CANDIDATE_RE.findall(srcset):
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


def _parse(html: str) -> lxml_html.HtmlElement:
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
    if "[" in html:
        html = expand_shortcodes(html)
    body = lxml_html.document_fromstring("<html><body>" + html).find("body")
    return body if body is not None else lxml_html.fromstring("<body></body>")


# How the blocks inside an element are laid out: as blocks, as lines (in a list item), as cells of
# a table row, on one line (in a cell or a title), or as they are written (in a pre).
_FLOW, _LINES, _ROW, _INLINE, _PREFORMATTED = range(5)


class _Walk:
    """One walk of a parsed post: cleans the tree in place and collects what it holds."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.site = _site_host(base_url)
        self.links: list[dict] = []
        self.images: list[dict] = []
        self.embeds: list[dict] = []
        self.seen_links: set[tuple[str, str]] = set()
        self.blocks: list[str] = []  # finished blocks of text
        self.lines: list[str] = []  # finished lines of the current block
        self.inline: list[str] = []  # pieces of the current line

    def text(self) -> str:
        self.end_block()
        return "\n\n".join(self.blocks)

    def end_line(self) -> None:
        if self.inline:
            line = "".join(self.inline)
            line = "" if line.isspace() else _collapse(line)
            if _CELL_SEPARATOR in line:
                line = _CELL_SEPARATOR_RE.sub("\t", line).strip()
            if line:
                self.lines.append(line)
            self.inline = []

    def end_block(self) -> None:
        self.end_line()
        if self.lines:
            self.blocks.append("\n".join(self.lines))
            self.lines = []

    def end_preformatted(self) -> None:
        """Ends a ``pre``: its lines keep their indentation (less what they all share), and lose
        trailing spaces and runs of blank lines."""
        text = textwrap.dedent(_drop_invisible("".join(self.inline)).replace("\xa0", " "))
        self.inline = []
        for line in text.splitlines():
            line = line.rstrip()
            if line or (self.lines and self.lines[-1]):
                self.lines.append(line)
        while self.lines and not self.lines[-1]:
            self.lines.pop()

    def separate(self, mode: int, block: bool) -> None:
        """Ends a block (or, with ``block`` false, a line) the way ``mode`` lays it out."""
        if mode == _PREFORMATTED:
            self.inline.append("\n")
        elif mode == _INLINE or mode == _ROW:
            self.inline.append(" ")
        elif block and mode == _FLOW:
            self.end_block()
        else:
            self.end_line()

    def element(self, element: lxml_html.HtmlElement, mode: int, caption: str | None) -> None:
        """Walks the text and children of ``element``, laid out in ``mode``."""
        if element.text:
            self.inline.append(element.text)
        cells = 0
        for child in list(element):  # a copy: the walk replaces and drops children
            tail = child.tail
            if child.tag in _CELL_TAGS:
                self.inline.append(_CELL_SEPARATOR if mode == _ROW and cells else " ")
                cells += 1
            self.child(child, mode, caption)
            if tail:
                self.inline.append(tail)

    def child(self, element: lxml_html.HtmlElement, mode: int, caption: str | None) -> None:
        tag = element.tag
        if not isinstance(tag, str) or tag in _DROPPED_TAGS or _is_boilerplate(element):
            element.drop_tree()
        elif tag == "br":
            self.separate(mode, block=False)
        elif tag == "img":
            self.image(element, caption)
        elif tag in _EMBED_TAGS and (embed := self.embed(element, tag)) is not None:
            provider, url = embed
            self.embeds.append({"provider": provider, "url": url})
            self.separate(mode, block=True)
            self.inline.append(url)
            self.separate(mode, block=True)
            _replace_with_link(element, url)
        elif tag in ("iframe", "video", "audio"):  # embeds nothing that can be linked to
            element.drop_tree()
        elif tag in _BLOCK_TAGS:
            if tag == "figure" or tag == "div" and "wp-caption" in (element.get("class") or "").split():
                caption = _caption(element)
            self.separate(mode, block=True)
            if tag == "pre" and (mode == _FLOW or mode == _LINES):
                self.end_line()
                self.element(element, _PREFORMATTED, caption)
                self.end_preformatted()
            else:  # a figure is one block: its table or embed, and its caption, are lines of it
                self.element(element, _LINES if tag == "figure" and mode == _FLOW else mode, caption)
            self.separate(mode, block=True)
        elif tag in _LINE_TAGS:
            inner = mode if mode in (_ROW, _INLINE, _PREFORMATTED) else _ROW if tag == "tr" else _LINES
            self.separate(mode, block=False)
            self.element(element, inner, caption)
            self.separate(mode, block=False)
        elif tag in _CELL_TAGS:
            self.element(element, _PREFORMATTED if mode == _PREFORMATTED else _INLINE, caption)
        else:
            self.element(element, mode, caption)
            if tag == "a":
                self.link(element)

    def link(self, anchor: lxml_html.HtmlElement) -> None:
        href = anchor.get("href")
        if href is None:
            return
        url = _absolute_url(href, self.base_url)
        if url is None:
            del anchor.attrib["href"]
            return
        anchor.set("href", url)
        if not _is_http(url) or strip_html5_whitespace(href).startswith("#"):
            return
        text = _collapse("".join(anchor.itertext()))
        if (url, text) not in self.seen_links:
            self.seen_links.add((url, text))
            self.links.append({"url": url, "text": text, "internal": _site_host(url) == self.site})

    def image(self, image: lxml_html.HtmlElement, caption: str | None) -> None:
        _promote_lazy_attributes(image)
        srcset = ", ".join(
            f"{url} {descriptor}".strip()
            for candidate, descriptor in _SRCSET_CANDIDATE_RE.findall(image.get("srcset") or "")
            if (url := _absolute_url(candidate, self.base_url)) and _is_http(url)
        )
        largest = largest_srcset_candidate(srcset)
        src = _absolute_url(image.get("src") or "", self.base_url)
        if src is None or not _is_http(src):
            src = largest[0] if largest else None
        if src is None:  # nothing but a placeholder or a data: URL
            image.drop_tree()
            return
        image.set("src", src)
        if srcset:
            image.set("srcset", srcset)
        elif "srcset" in image.attrib:
            del image.attrib["srcset"]
        url, width = largest or (src, None)
        width_attribute, height = _dimension(image.get("width")), _dimension(image.get("height"))
        if width is None:
            width = width_attribute
        elif width != width_attribute:  # the dimensions are those of the image at ``url``
            height = round(height * width / width_attribute) if height and width_attribute else None
        alt = None if image.get("alt") is None else _collapse(image.get("alt"))
        self.images.append({"url": url, "alt": alt, "caption": caption, "width": width, "height": height})

    def embed(self, element: lxml_html.HtmlElement, tag: str) -> tuple[str, str] | None:
        """The provider and URL of what ``element`` embeds, if it is an embed."""
        classes = (element.get("class") or "").split()
        if tag in ("iframe", "video", "audio"):
            if "wp-embedded-content" in classes:  # a hidden copy of the blockquote before it
                return None
            _promote_lazy_attributes(element)
            source = element.get("src") or next((s.get("src") for s in element.iter("source") if s.get("src")), "")
            url = _absolute_url(source, self.base_url)
            return (embed_provider(url, tag), url) if url and _is_http(url) else None
        if tag == "blockquote":
            provider = next((_EMBED_BLOCKQUOTES[c] for c in classes if c in _EMBED_BLOCKQUOTES), None)
            if provider is None:
                return None
            hrefs = [href for link in element.iter("a") if (href := link.get("href"))]
            source = element.get("data-instgrm-permalink") or element.get("cite") or (hrefs[-1] if hrefs else "")
            url = _absolute_url(source, self.base_url)
            if provider in ("twitter", "instagram") and url:
                url = url.split("?")[0]  # only tracking parameters follow
            return (provider, url) if url and _is_http(url) else None
        if tag == "div" and "wp-block-embed__wrapper" in classes and len(element) == 0:  # not rendered by oEmbed
            url = _absolute_url(element.text or "", self.base_url)
            if not url or not _is_http(url):
                return None
            figure_classes = (element.getparent().get("class") or "").split()  # type: ignore[union-attr]
            named = [c.removeprefix("is-provider-") for c in figure_classes if c.startswith("is-provider-")]
            return (named[0] if named else embed_provider(url, "embed")), url
        return None


def _collapse(text: str) -> str:
    """Text on one line: invisible characters dropped, whitespace runs made single spaces."""
    if text.isprintable() and "  " not in text:  # most paragraphs: no whitespace but single spaces
        return text.strip()  # ("printable" excludes all whitespace but " ", joiners and invisibles)
    text = _drop_invisible(text)
    if "\u200c" in text or "\u200d" in text:
        text = _STRAY_JOINER_RE.sub("", text)
    return _SPACES_RE.sub(" ", text).strip()


def _drop_invisible(text: str) -> str:
    # Four substring searches cost less than one regex scan of text that has none of them.
    if "\u00ad" in text or "\u200b" in text or "\u2060" in text or "\ufeff" in text:
        return _INVISIBLE_RE.sub("", text)
    return text


def _is_boilerplate(element: lxml_html.HtmlElement) -> bool:
    classes, id_ = element.get("class"), element.get("id")
    return bool(
        (classes and not _BOILERPLATE_CLASSES.isdisjoint(classes.split())) or (id_ and id_ in _BOILERPLATE_IDS)
    )


def _caption(figure: lxml_html.HtmlElement) -> str | None:
    """The caption of a figure or of a classic ``div.wp-caption``."""
    for child in figure:
        if child.tag == "figcaption" or "wp-caption-text" in (child.get("class") or "").split():
            return _collapse("".join(child.itertext())) or None
    return None


def _replace_with_link(element: lxml_html.HtmlElement, url: str) -> None:
    """Replaces an embed with a link to what it embeds, in a paragraph where one can stand."""
    parent = element.getparent()
    link = element.makeelement("a", {"href": url})
    link.text = url
    replacement = link
    if parent.tag in _FLOW_PARENTS:
        replacement = element.makeelement("p", {})
        replacement.append(link)
    replacement.tail = element.tail
    parent.replace(element, replacement)


def _promote_lazy_attributes(element: lxml_html.HtmlElement) -> None:
    for lazy, real in _LAZY_ATTRIBUTES:
        if value := element.get(lazy):
            element.set(real, value)


def _absolute_url(url: str, base_url: str) -> str | None:
    """``url`` resolved against ``base_url``, or None if either cannot be parsed."""
    try:
        return urljoin(base_url, strip_html5_whitespace(url))
    except ValueError:  # e.g. an unclosed IPv6 host, "http://[::1"
        return None


def _is_http(url: str) -> bool:
    return url[:8].lower().startswith(("http://", "https://"))


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _site_host(url: str) -> str:
    return _host(url).removeprefix("www.")


def _dimension(value: str | None) -> int | None:
    match = _DIMENSION_RE.fullmatch(value or "")
    return int(match[1]) if match else None
