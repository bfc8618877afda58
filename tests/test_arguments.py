from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from viewworld.arguments import DEFAULT_SITE, ArgumentError, CrawlArguments


def test_no_argument_crawls_viewworld_with_100_posts_a_page():
    arguments = CrawlArguments.parse({})
    assert arguments.sites == (DEFAULT_SITE,)
    assert arguments.per_page == 100
    assert arguments.max_posts is None


def test_several_sites_are_separated_by_commas_and_normalised():
    arguments = CrawlArguments.parse({"site": "example.org/, http://127.0.0.1:8080/news/ ,example.org"})
    assert arguments.sites == ("https://example.org", "http://127.0.0.1:8080/news")


def test_sites_file_lists_one_site_a_line_with_comments(tmp_path):
    sites_file = tmp_path / "sites.txt"
    sites_file.write_text("# our sites\nhttps://a.example\n\nb.example\n", encoding="utf-8")
    assert CrawlArguments.parse({"sites_file": str(sites_file)}).sites == ("https://a.example", "https://b.example")


def test_a_missing_sites_file_is_named_in_the_error(tmp_path):
    with pytest.raises(ArgumentError, match=r"sites_file=.*cannot read .*missing.txt"):
        CrawlArguments.parse({"sites_file": str(tmp_path / "missing.txt")})


def test_scrapyd_arguments_starting_with_underscore_are_accepted_silently():
    assert CrawlArguments.parse({"_job": "abc123", "_version": "1"}).sites == (DEFAULT_SITE,)


def test_an_unknown_argument_is_named_with_the_accepted_ones():
    with pytest.raises(ArgumentError, match=r"unknown argument 'perpage': wpposts accepts site, sites_file, per_page"):
        CrawlArguments.parse({"perpage": "10"})


@pytest.mark.parametrize("name, value, form", [
    ("per_page", "0", "a whole number from 1 to 100"),
    ("per_page", "101", "a whole number from 1 to 100"),
    ("per_page", "ten", "a whole number from 1 to 100"),
    ("max_posts", "-1", "a whole number of at least 1"),
    ("since", "yesterday", "an ISO 8601 date or date-time"),
    ("site", "ftp://example.org", "a site URL"),
    ("site", "", "a site URL"),
])
def test_a_malformed_value_is_one_line_naming_the_argument_and_the_expected_form(name, value, form):
    with pytest.raises(ArgumentError) as raised:
        CrawlArguments.parse({name: value})
    message = str(raised.value)
    assert f"argument {name}=" in message and form in message and "\n" not in message


def test_since_and_until_are_utc_moments_and_a_bare_until_date_includes_the_whole_day():
    arguments = CrawlArguments.parse({"since": "2024-01-01", "until": "2024-01-31"})
    assert arguments.since == datetime(2024, 1, 1, tzinfo=UTC)
    assert arguments.until == datetime(2024, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)


def test_since_after_until_is_refused():
    with pytest.raises(ArgumentError, match="since is after until"):
        CrawlArguments.parse({"since": "2024-02-01", "until": "2024-01-01"})


def test_one_site_given_twice_is_refused_and_a_multisites_subsites_are_two_sites():
    """``http`` and ``https`` of one site would share its state and output; ``/en`` and ``/fr`` do not."""
    with pytest.raises(ArgumentError, match=r"^sites http://example.org/en and https://example.org/en are one site "
                                            r"\(example.org~en\): expected each site once$"):
        CrawlArguments.parse({"site": "http://example.org/en,https://example.org/en/"})
    assert CrawlArguments.parse({"site": "example.org/en,example.org/fr"}).sites == (
        "https://example.org/en", "https://example.org/fr")


@pytest.mark.parametrize("password", ["s3cret", "abcd efgh ijkl mnop", "p@ss", "pa/ss"])
def test_a_site_url_with_a_password_is_refused_without_showing_it(tmp_path, password):
    """``https://user:pass@host`` would put the password in every log line: refused, and the error hides it, an
    application password's spaces, a "/" or an "@" in it too."""
    with pytest.raises(ArgumentError) as raised:
        CrawlArguments.parse({"site": f"https://editor:{password}@example.org"})
    assert str(raised.value) == (
        "argument site='https://***@example.org' is not valid: expected a site URL, or several separated by commas "
        "(a user name or password in the URL: credentials go in WP_CREDENTIALS_FILE, or WP_USERNAME and "
        "WP_APP_PASSWORD)")
    sites_file = tmp_path / "sites.txt"
    sites_file.write_text(f"https://a.example\nhttps://editor:{password}@b.example\n", encoding="utf-8")
    with pytest.raises(ArgumentError, match=r"sites\.txt line 2: 'https://\*\*\*@b\.example' is not a site URL") as raised:
        CrawlArguments.parse({"sites_file": str(sites_file)})
    assert password not in str(raised.value) and "editor" not in str(raised.value)


@pytest.mark.parametrize("limit", [{"since": "2024-01-01"}, {"until": "2024-01-01"}, {"max_posts": "5"}])
def test_a_sweep_in_a_one_off_crawl_is_refused_naming_both(limit):
    """A one-off crawl keeps no state: a sweep there would find nothing deleted, and say nothing of it."""
    [(name, _)] = limit.items()
    with pytest.raises(ArgumentError, match=f"argument sweep cannot be used with {name}: a one-off crawl"):
        CrawlArguments.parse({"sweep": "1", **limit})
    assert CrawlArguments.parse({"full": "1", **limit}).one_off


def test_a_site_without_a_scheme_holding_a_password_and_a_host_of_dots_are_refused_an_idn_is_written_in_ascii():
    with pytest.raises(ArgumentError) as raised:
        CrawlArguments.parse({"site": "editor:abcd efgh@example.org"})
    assert "abcd" not in str(raised.value) and "site='***@example.org'" in str(raised.value)
    for dots in ("https://..", "."):
        with pytest.raises(ArgumentError, match="expected a site URL"):
            CrawlArguments.parse({"site": dots})  # its output and state folder would be OUTPUT_DIR's parent
    assert CrawlArguments.parse({"site": "https://bücher.de/news"}).sites == ("https://xn--bcher-kva.de/news",)


def test_what_is_taken_for_a_password_and_how_errors_show_the_rest(tmp_path):
    """A path with "@" is a path; a password with a quote or a comma is not shown in part; a sites_file path with "@"
    is shown whole."""
    assert CrawlArguments.parse({"site": "https://example.org/@team"}).sites == ("https://example.org/@team",)
    for value, shown in (("https://editor:ab'cd@x.org", "'https://***@x.org'"),
                         ("https://a.org,https://editor:p,ss@b.org", "'(not shown: it holds a user name or password)'")):
        with pytest.raises(ArgumentError) as raised:
            CrawlArguments.parse({"site": value})
        assert str(raised.value).startswith(f"argument site={shown} is not valid") and "editor" not in str(raised.value)
    missing = tmp_path / "crawl@prod" / "sites.txt"
    with pytest.raises(ArgumentError, match=rf"^argument sites_file='{re.escape(str(missing))}' is not valid: "):
        CrawlArguments.parse({"sites_file": str(missing)})
