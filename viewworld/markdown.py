"""``content_markdown``: the sanitized ``content_html`` as Markdown, by markdownify (ATX headings,
``-`` bullets, fenced code, pipe tables). markdownify is optional (see ``CONTENT_MARKDOWN``), so it
is imported on first use."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdownify import MarkdownConverter


def html_to_markdown(html: str) -> str:
    """Markdown of sanitized HTML, without leading or trailing blank lines; for example
    ``<h2>Talks</h2><p>In <a href="https://x.org/">Geneva</a>.</p>`` gives
    ``## Talks\\n\\nIn [Geneva](https://x.org/).``."""
    return _converter().convert(html).strip("\n")


@functools.cache
def _converter() -> MarkdownConverter:
    from markdownify import MarkdownConverter

    return MarkdownConverter(heading_style="ATX", bullets="-", code_language="", escape_misc=False)
