"""The one walk of a parsed post: it cleans the tree in place (drops what is not content, resolves
URLs, promotes lazy-loading attributes, turns embeds into links) and lays out its text as it goes."""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING

from w3lib.html import strip_html5_whitespace

from viewworld.media import (
    absolute_url,
    dimension,
    embed_of,
    is_http,
    largest_srcset_candidate,
    promote_lazy_attributes,
    replace_with_link,
    site_host,
    srcset_candidates,
)
from viewworld.text import collapse_whitespace, drop_invisible

if TYPE_CHECKING:
    from lxml.etree import _Element

# Elements whose content is never article text.
_DROPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "title", "meta", "link", "base"}
    | {"form", "input", "button", "select", "option", "optgroup", "textarea", "datalist", "fieldset"}
    | {"object", "embed", "applet", "param", "svg", "canvas", "xmp", "plaintext", "noembed", "noframes"}
)
# Boxes that sharing, related-posts, newsletter, form and breadcrumb plugins add to the content.
_BOILERPLATE_CLASSES = frozenset(
    {"sharedaddy", "sd-sharing-enabled", "sd-block", "jetpack-likes-widget-wrapper", "jp-relatedposts"}
    | {"wp-block-jetpack-subscriptions", "wp-block-jetpack-mailchimp", "wp-block-jetpack-contact-form"}
    | {"wp-block-jetpack-related-posts", "wp-block-jetpack-sharing-buttons", "wp-block-jetpack-like"}
    | {"addtoany_share_save_container", "a2a_kit", "addtoany_list", "heateor_sss_sharing_container"}
    | {"swp_social_panel", "shared-counts-wrap", "yarpp-related", "crp_related", "mc4wp-form"}
    | {"elementor-widget-share-buttons", "tnp-subscription", "mailpoet_form", "wpcf7", "gform_wrapper"}
    | {"wpforms-container", "yoast-breadcrumbs", "rank-math-breadcrumb"}
)
_BOILERPLATE_IDS = frozenset({"jp-relatedposts", "jp-post-flair", "breadcrumbs"})
# Images WordPress makes of emoji and smilies: their text is their alt ("😀", ":-)").
_EMOJI_CLASSES = ("emoji", "wp-smiley")

_BLOCK_TAGS = frozenset(
    {"p", "pre", "hr", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "blockquote", "figure"}
    | {"section", "article", "header", "footer", "aside", "nav", "main", "address", "details", "center"}
)
_LINE_TAGS = frozenset({"li", "dt", "dd", "tr", "figcaption", "caption", "summary"})
_CELL_TAGS = frozenset({"td", "th"})
_EMBED_TAGS = frozenset({"iframe", "video", "audio", "blockquote", "div"})  # div: an unrendered embed block

_CELL_SEPARATOR = "\x00"  # joins cells while a line is built; becomes a tab once its spaces are collapsed
_CELL_SEPARATOR_RE = re.compile(" ?\x00 ?")

# How the blocks inside an element are laid out: as blocks, as lines (in a list item), as cells of
# a table row, on one line (in a cell or a title), or as they are written (in a pre).
FLOW, LINES, ROW, INLINE, PREFORMATTED = range(5)


class ContentWalk:
    """One walk of a parsed post: cleans the tree in place and collects what it holds."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.site = site_host(base_url)
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
            self.inline = []
            if line.isspace():
                return
            line = collapse_whitespace(line)
            if _CELL_SEPARATOR in line:  # a row: an empty first cell keeps its tab (the columns hold), the last not
                line = _CELL_SEPARATOR_RE.sub("\t", line).strip(" ").rstrip("\t")
            if line and not line.isspace():
                self.lines.append(line)

    def end_block(self) -> None:
        if self.inline:
            self.end_line()
        if self.lines:
            self.blocks.append("\n".join(self.lines))
            self.lines = []

    def end_preformatted(self) -> None:
        """Ends a ``pre``: its lines keep their indentation (less what they all share), and lose
        trailing spaces and runs of blank lines."""
        text = textwrap.dedent(drop_invisible("".join(self.inline)).replace("\xa0", " "))
        self.inline = []
        for line in text.splitlines():
            line = line.rstrip()
            if line or (self.lines and self.lines[-1]):
                self.lines.append(line)
        while self.lines and not self.lines[-1]:
            self.lines.pop()

    def separate(self, mode: int, block: bool) -> None:
        """Ends a block (or, with ``block`` false, a line) the way ``mode`` lays it out."""
        if mode == FLOW and block:
            self.end_block()
        elif mode == PREFORMATTED:
            self.inline.append("\n")
        elif mode == INLINE or mode == ROW:
            self.inline.append(" ")
        else:
            self.end_line()

    def element(self, element: _Element, mode: int, caption: str | None) -> None:
        """Walks the text and children of ``element``, laid out in ``mode``."""
        if element.text:
            self.inline.append(element.text)
        cells = 0
        for child in list(element):  # a copy: the walk replaces and drops children
            tail = child.tail
            tag = child.tag
            if tag in _CELL_TAGS:
                self.inline.append(_CELL_SEPARATOR if mode == ROW and cells else " ")
                cells += 1
            if tag == "p" and mode == FLOW and len(child) == 0 and not child.attrib:  # most of a post
                self.end_block()  # the paragraph's text is a block of its own, one line
                if child.text and (line := collapse_whitespace(child.text)):
                    self.blocks.append(line)
            else:
                self.child(child, tag, mode, caption)
            if tail:
                self.inline.append(tail)

    def child(self, element: _Element, tag: object, mode: int, caption: str | None) -> None:
        if not isinstance(tag, str) or tag in _DROPPED_TAGS or _is_boilerplate(element):
            drop_tree(element)
        elif tag == "br":
            self.separate(mode, block=False)
        elif tag == "img":
            self.image(element, caption)
        elif tag in _EMBED_TAGS and (embed := embed_of(element, tag, self.base_url)) is not None:
            provider, url = embed
            self.embeds.append({"provider": provider, "url": url})
            self.separate(mode, block=True)
            self.inline.append(url)
            self.separate(mode, block=True)
            replace_with_link(element, url)
        elif tag in ("iframe", "video", "audio"):  # embeds nothing that can be linked to
            drop_tree(element)
        elif tag in _BLOCK_TAGS:
            if tag == "figure" or tag == "div" and "wp-caption" in (element.get("class") or "").split():
                caption = _caption(element)
            self.separate(mode, block=True)
            if tag == "pre" and (mode == FLOW or mode == LINES):
                self.end_line()
                self.element(element, PREFORMATTED, caption)
                self.end_preformatted()
            else:  # a figure is one block: its table or embed, and its caption, are lines of it
                self.element(element, LINES if tag == "figure" and mode == FLOW else mode, caption)
            self.separate(mode, block=True)
        elif tag in _LINE_TAGS:
            inner = mode if mode in (ROW, INLINE, PREFORMATTED) else ROW if tag == "tr" else LINES
            self.separate(mode, block=False)
            self.element(element, inner, caption)
            self.separate(mode, block=False)
        elif tag in _CELL_TAGS:
            self.element(element, PREFORMATTED if mode == PREFORMATTED else INLINE, caption)
        else:
            self.element(element, mode, caption)
            if tag == "a":
                self.link(element)

    def link(self, anchor: _Element) -> None:
        href = anchor.get("href")
        if href is None:
            return
        url = absolute_url(href, self.base_url)
        if url is None:
            del anchor.attrib["href"]
            return
        anchor.set("href", url)
        if not is_http(url) or strip_html5_whitespace(href).startswith("#"):
            return
        text = collapse_whitespace("".join(anchor.itertext()))
        if (url, text) not in self.seen_links:
            self.seen_links.add((url, text))
            self.links.append({"url": url, "text": text, "internal": site_host(url) == self.site})

    def image(self, image: _Element, caption: str | None) -> None:
        classes = image.get("class")
        if classes and any(name in classes.split() for name in _EMOJI_CLASSES) and image.get("alt"):
            self.inline.append(image.get("alt"))
            replace_with_text(image, image.get("alt"))
            return
        promote_lazy_attributes(image)
        candidates = [
            (url, descriptor)
            for candidate, descriptor in srcset_candidates(image.get("srcset") or "")
            if (url := absolute_url(candidate, self.base_url)) and is_http(url)
        ]
        srcset = ", ".join(f"{url} {descriptor}".strip() for url, descriptor in candidates)
        largest = largest_srcset_candidate(candidates)
        src = absolute_url(image.get("src") or "", self.base_url)
        if src is None or not is_http(src):
            src = largest[0] if largest else None
        if src is None:  # nothing but a placeholder or a data: URL
            drop_tree(image)
            return
        image.set("src", src)
        if srcset:
            image.set("srcset", srcset)
        elif "srcset" in image.attrib:
            del image.attrib["srcset"]
        url, width = largest or (src, None)
        width_attribute, height = dimension(image.get("width")), dimension(image.get("height"))
        if width is None:
            width = width_attribute
        elif width != width_attribute:  # the dimensions are those of the image at ``url``
            height = round(height * width / width_attribute) if height and width_attribute else None
        alt = image.get("alt")
        alt = None if alt is None else collapse_whitespace(alt)
        self.images.append({"url": url, "alt": alt, "caption": caption, "width": width, "height": height})


def drop_tree(element: _Element) -> None:
    """Removes ``element`` and its content, keeping the text that follows it."""
    replace_with_text(element, "")


def replace_with_text(element: _Element, text: str) -> None:
    """Replaces ``element`` and its content with ``text``, keeping the text that follows it."""
    parent = element.getparent()
    if parent is None:
        return
    text += element.tail or ""
    if text:
        previous = element.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + text
        else:
            previous.tail = (previous.tail or "") + text
    parent.remove(element)


def _is_boilerplate(element: _Element) -> bool:
    classes, id_ = element.get("class"), element.get("id")
    return bool(
        (classes and not _BOILERPLATE_CLASSES.isdisjoint(classes.split())) or (id_ and id_ in _BOILERPLATE_IDS)
    )


def _caption(figure: _Element) -> str | None:
    """The caption of a figure or of a classic ``div.wp-caption``."""
    for child in figure:
        if child.tag == "figcaption" or "wp-caption-text" in (child.get("class") or "").split():
            return collapse_whitespace("".join(child.itertext())) or None
    return None
