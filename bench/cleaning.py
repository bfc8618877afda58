"""Content extraction on the cleaning corpus: viewworld's ``content_text`` against the expected text
of every case in ``tests/data/corpus/``, side by side with trafilatura and html-text.

    .venv/bin/pip install -r bench/requirements-cleaning.txt
    .venv/bin/python bench/cleaning.py [--rounds N]

Per tool, one table row: the exact matches (the text equal to the expected text, compared after
trimming), the token-level F1 (tokens are whitespace-separated, counted as a multiset per case, then
micro-averaged over the corpus: what is missed and what is extra both count), and posts per second
over the whole corpus (CPU time of the process, pinned to one core, best of ``--rounds``), plus the
posts per second on one typical 5 KB post (the seed post's paragraphs up to 5,000 bytes). trafilatura
runs with its defaults for a body fragment (``favor_precision`` off, no comments, tables kept);
html-text with ``guess_layout`` on (its default).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from viewworld.cleaning import clean_content  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

CORPUS = ROOT / "tests" / "data" / "corpus"
POST_URL = "https://www.viewworld.org/2024/01/15/post/"


def viewworld_text(html: str) -> str:
    return clean_content(html, POST_URL).text


def trafilatura_text(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=POST_URL, include_comments=False, include_tables=True) or ""


def html_text_text(html: str) -> str:
    import html_text

    return html_text.extract_text(html)


TOOLS: dict[str, Callable[[str], str]] = {
    "viewworld": viewworld_text,
    "trafilatura": trafilatura_text,
    "html-text": html_text_text,
}


def token_counts(expected: str, got: str) -> tuple[int, int, int]:
    """Tokens in common, tokens expected and tokens got."""
    expected_tokens, got_tokens = Counter(expected.split()), Counter(got.split())
    return sum((expected_tokens & got_tokens).values()), sum(expected_tokens.values()), sum(got_tokens.values())


def posts_per_second(extract: Callable[[str], str], posts: list[str], rounds: int, minimum_seconds: float) -> float:
    best = float("inf")
    for _ in range(rounds):
        repeats, started = 0, time.process_time()
        while (elapsed := time.process_time() - started) < minimum_seconds or not repeats:
            for html in posts:
                extract(html)
            repeats += 1
        best = min(best, elapsed / (repeats * len(posts)))
    return 1 / best


def typical_post() -> str:
    """The seed post's paragraphs up to 5,000 bytes: a typical news post body."""
    html = json.loads((ROOT / "tests" / "data" / "seed_post.json").read_text(encoding="utf-8"))["content"]["rendered"]
    cut = html.encode()[:5000].decode(errors="ignore")
    return cut[: cut.rfind("</p>") + 4]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds per tool; the best counts")
    parser.add_argument("--seconds", type=float, default=1.0, help="least CPU time per round")
    parser.add_argument("--show", action="store_true", help="print each case a tool does not match exactly")
    arguments = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})  # one core
    cases = sorted(path.stem for path in CORPUS.glob("*.html"))
    posts = [(CORPUS / f"{case}.html").read_text(encoding="utf-8") for case in cases]
    expected = [(CORPUS / f"{case}.txt").read_text(encoding="utf-8").strip() for case in cases]
    typical = typical_post()
    rows = []
    for name, extract in TOOLS.items():
        common = expected_total = got_total = exact = 0
        for case, html, want in zip(cases, posts, expected):
            got = extract(html).strip()
            exact += got == want
            counts = token_counts(want, got)
            common, expected_total, got_total = common + counts[0], expected_total + counts[1], got_total + counts[2]
            if arguments.show and got != want:
                print(f"--- {name}: {case}\n{got}\n")
        precision, recall = common / (got_total or 1), common / (expected_total or 1)
        f1 = 2 * precision * recall / ((precision + recall) or 1)
        corpus_speed = posts_per_second(extract, posts, arguments.rounds, arguments.seconds)
        typical_speed = posts_per_second(extract, [typical], arguments.rounds, arguments.seconds)
        rows.append((name, f"{exact}/{len(cases)}", f"{precision:.3f}", f"{recall:.3f}", f"{f1:.3f}",
                     f"{corpus_speed:,.0f}", f"{typical_speed:,.0f}"))
    header = ("tool", "exact", "precision", "recall", "token F1", "corpus posts/s", "5 KB post posts/s")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"{len(cases)} WordPress post bodies (tests/data/corpus), one core, CPU time, best of {arguments.rounds}")
    for row in [header, tuple("-" * width for width in widths), *rows]:
        print("  ".join(str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
                        for i, (cell, width) in enumerate(zip(row, widths))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
