"""Plain-text helpers of the cleaning: whitespace, invisible characters, words and reading time."""

from __future__ import annotations

import math
import re

_INVISIBLE = "\u00ad\u200b\u2060\ufeff"  # soft hyphen, zero-width space, word joiner, BOM
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
# Runs of whitespace (any Unicode space: no-break, narrow no-break, ideographic...) other than a
# lone space, which needs no replacing and is most of them.
_SPACES_RE = re.compile(r"[^\S ]\s*| \s+")
# ZWNJ and ZWJ shape Persian, Indic and emoji; one that touches a space or an edge shapes nothing.
# A run is tried from its first joiner only, and taken whole: a long run before a letter costs one pass, not one
# pass per joiner (20,000 of them took 2 s).
_STRAY_JOINER_RE = re.compile(r"(?<!\S)[\u200c\u200d]+|(?<![\u200c\u200d])[\u200c\u200d]++(?!\S)")

# Words are counted on UTF-8 bytes, a character classed by its leading byte, hence by its block:
# ASCII letters and digits, and U+00C0-U+1FFF (accented Latin, Greek, Cyrillic, Hebrew, Arabic,
# Indic, their combining marks too) make words; ASCII punctuation, U+0080-U+00BF (no-break space,
# guillemets), U+2000-U+2FFF (dashes, quotes, symbols) and U+E000 on (fullwidth punctuation, emoji)
# separate them; U+3040-U+9FFF (kana, CJK ideographs) is a word per character; U+A000-U+DFFF (hangul
# syllables among them: Korean puts spaces between words) makes words as letters do.
_UTF8_CLASSES = bytes(
    (ord("a") if chr(byte).isalnum() or byte == ord("_") else ord(" ")) if byte < 0x80
    else ord("a") if 0xC3 <= byte <= 0xE1 or 0xEA <= byte <= 0xED
    else ord("c") if 0xE3 <= byte <= 0xE9
    else ord(" ")
    for byte in range(256)
)  # fmt: skip
_UTF8_CONTINUATION_BYTES = bytes(range(0x80, 0xC0))
_UTF8_CJK_PUNCTUATION = b"\xe3\x80"  # U+3000-U+303F: ideographic space, 、。「」

WORDS_PER_MINUTE = 238  # the mean silent reading speed of adults in English non-fiction (Brysbaert, 2019)


def collapse_whitespace(text: str) -> str:
    """Text on one line: invisible characters dropped, whitespace runs made single spaces.

    >>> collapse_whitespace(" Tom\\u00a0&\\u3000Jerry\\n\\tfell\\u00adasleep\\u200b ")
    'Tom & Jerry fellasleep'
    """
    if text.isprintable() and "  " not in text:  # most paragraphs: no whitespace but single spaces
        return text.strip()  # ("printable" excludes all whitespace but " ", joiners and invisibles)
    text = drop_invisible(text)
    if "\u200c" in text or "\u200d" in text:
        text = _STRAY_JOINER_RE.sub("", text)
    return _SPACES_RE.sub(" ", text).strip()


def drop_invisible(text: str) -> str:
    """Text without soft hyphens, zero-width spaces, word joiners and byte order marks.

    >>> drop_invisible("Neg\\u00adoti\\u200bations")
    'Negotiations'
    """
    # Four substring searches cost less than one regex scan of text that has none of them.
    if "\u00ad" in text or "\u200b" in text or "\u2060" in text or "\ufeff" in text:
        return _INVISIBLE_RE.sub("", text)
    return text


def count_words(text: str) -> int:
    """The number of words in ``text``: runs of letters, digits and combining marks, as a regex
    ``\\w+`` finds them but unsplit by a zero-width (non-)joiner, except that each CJK ideograph and
    kana is a word of its own, as those scripts put no spaces between words (Korean does: its hangul
    syllables make words as letters do).
    Scripts such as Thai that do not either count a phrase as one word; emoji are no words.
    Counted on UTF-8 bytes, by Unicode block (see ``_UTF8_CLASSES``): a ``\\w+`` regex costs
    eight times as much, about as much as all the rest of the cleaning of a post.

    >>> count_words("Biden said — in 2022: “हिन्दी है”")
    6
    >>> count_words("안녕하세요 세계 여러분"), count_words("東京は晴れ")
    (3, 5)
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


def reading_time_minutes(word_count: int) -> int:
    """Whole minutes to read ``word_count`` words at ``WORDS_PER_MINUTE``, rounded up; 0 for none.

    >>> reading_time_minutes(0), reading_time_minutes(1), reading_time_minutes(238), reading_time_minutes(239)
    (0, 1, 1, 2)
    """
    return math.ceil(word_count / WORDS_PER_MINUTE) if word_count > 0 else 0
