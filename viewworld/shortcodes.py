"""Shortcodes WordPress left unrendered in a post's HTML (a plugin or page builder since removed)."""

from __future__ import annotations

import re

# A pre, code or caption that is never closed is looked for up to the next one's start, and a tag never closed up to
# the next "<": each costs a scan of its stretch, not of the rest of the post (thousands took seconds).
_SHORTCODE_RE = re.compile(
    r"""(?P<literal><(?P<code>pre|code)\b(?:(?!<(?P=code)\b).)*?</(?P=code)\s*>|<[a-zA-Z!/][^<>]*>)
      | \[caption\b(?P<caption_attributes>[^\]]*)\](?P<caption>(?:(?!\[caption\b).)*?)\[/caption\]
      | \[embed\b[^\]]*\](?P<embed>[^\[<]*)\[/embed\]
      | \[(?P<closing>/)?(?P<name>[a-zA-Z][\w-]*)(?P<attributes>\s[^\[\]]*)?/?\]""",
    re.DOTALL | re.IGNORECASE | re.VERBOSE,
)
_SHORTCODE_START_RE = re.compile(r"\[/?[a-zA-Z]")
_CLOSING_SHORTCODE_RE = re.compile(r"\[/([a-zA-Z][\w-]*)\]")
_WORDPRESS_SHORTCODES = frozenset({"caption", "gallery", "embed", "audio", "video", "playlist", "wp_caption"})
_CAPTION_ATTRIBUTE_RE = re.compile(r"""\bcaption=(?:"([^"]*)"|'([^']*)')""")
_TRAILING_TEXT_RE = re.compile(r"(.*>)([^<>]*)$", re.DOTALL)


def expand_shortcodes(html: str) -> str:
    """HTML with the shortcodes WordPress left unrendered unwrapped: ``[caption]`` becomes a figure
    with a figcaption, ``[embed]`` an embed block, and other shortcode tags are dropped, their
    content kept. A bracketed word is a shortcode if it has attributes, an underscore, a hyphen in a
    lower-case name, a closing tag, or a WordPress name, so "[sic]" and "[COVID-19]" stay. So does
    anything inside ``pre`` or ``code``, or inside a tag (``href="?filter[post-type]=news"``).

    >>> expand_shortcodes('[vc_row][vc_column_text]Hi [sic][/vc_column_text][/vc_row][gallery ids="1,2"]')
    'Hi [sic]'
    >>> expand_shortcodes('<a href="/?f[post-type]=news">[Op-Ed] On [COVID-19]</a>[live-blog]')
    '<a href="/?f[post-type]=news">[Op-Ed] On [COVID-19]</a>'
    >>> expand_shortcodes('[caption id="a1"]<img src="a.jpg"> The lake[/caption]')
    '<figure class="wp-caption"><img src="a.jpg"><figcaption class="wp-caption-text">The lake</figcaption></figure>'
    """
    if _SHORTCODE_START_RE.search(html) is None:  # every shortcode starts "[name" or "[/name"; most HTML has none
        return html
    while True:
        closed = set(_CLOSING_SHORTCODE_RE.findall(html))
        expanded = _SHORTCODE_RE.sub(lambda match: _expand_shortcode(match, closed), html)
        if expanded == html:  # removing a shortcode can join the halves of another
            return expanded
        html = expanded


def has_shortcode(text: str) -> bool:
    """Whether ``expand_shortcodes`` would change ``text``.

    >>> has_shortcode("[&hellip;] [sic]"), has_shortcode("[gallery]")
    (False, True)
    """
    return expand_shortcodes(text) != text


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
        match["closing"] or "=" in attributes or "_" in name or ("-" in name and name.islower())
        or name.lower() in _WORDPRESS_SHORTCODES or name in closed
    )  # fmt: skip
    return "" if is_shortcode else match[0]
