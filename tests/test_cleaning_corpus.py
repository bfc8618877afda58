"""The cleaning corpus: WordPress post bodies with a hand-checked expected ``content_text`` each
(``tests/data/corpus/<case>.html`` and ``<case>.txt``; the corpus README says where each comes from)."""

from __future__ import annotations

from pathlib import Path

import pytest

from viewworld.cleaning import clean_content

CORPUS = Path(__file__).parent / "data" / "corpus"
POST_URL = "https://www.viewworld.org/2024/01/15/post/"
CASES = sorted(path.stem for path in CORPUS.glob("*.html"))


def expected_text(case: str) -> str:
    return (CORPUS / f"{case}.txt").read_text(encoding="utf-8").removesuffix("\n")


def test_corpus_has_at_least_40_cases_each_with_its_expected_text():
    assert len(CASES) >= 40
    assert sorted(path.stem for path in CORPUS.glob("*.txt")) == CASES


@pytest.mark.parametrize("case", CASES)
def test_content_text_is_exactly_the_expected_text(case):
    html = (CORPUS / f"{case}.html").read_text(encoding="utf-8")
    assert clean_content(html, POST_URL).text == expected_text(case)



@pytest.mark.parametrize("case", CASES)
def test_cleaning_the_cleaned_html_again_changes_nothing(case):
    once = clean_content((CORPUS / f"{case}.html").read_text(encoding="utf-8"), POST_URL).html
    assert clean_content(once, POST_URL).html == once
