from __future__ import annotations

import json

import pytest

from viewworld.credentials import Credentials, CredentialsError, credentials_for_sites

A, B = "https://a.example", "https://www.b.example"


def test_the_plain_variables_apply_to_a_single_site_crawl():
    found = credentials_for_sites((A,), {"WP_USERNAME": "editor", "WP_APP_PASSWORD": "abcd efgh"})
    assert found == {A: Credentials("editor", "abcd efgh")}


def test_the_plain_variables_do_not_apply_when_several_sites_are_crawled():
    assert credentials_for_sites((A, B), {"WP_USERNAME": "editor", "WP_APP_PASSWORD": "abcd efgh"}) == {}


def test_the_credentials_file_maps_each_site_to_its_user_www_or_not(tmp_path):
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"https://b.example": {"username": "bee", "app_password": "b pass"},
                                A: {"username": "ay", "app_password": "a pass"}}), encoding="utf-8")
    found = credentials_for_sites((A, B), {"WP_CREDENTIALS_FILE": str(path)})
    assert found == {A: Credentials("ay", "a pass"), B: Credentials("bee", "b pass")}


def test_a_credentials_file_entry_for_https_is_not_used_for_the_site_given_as_http(tmp_path):
    """Its password would go in clear; an entry for http is used over https (nothing is lost)."""
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"https://a.example": {"username": "ay", "app_password": "a pass"},
                                "http://b.example": {"username": "bee", "app_password": "b pass"}}), encoding="utf-8")
    found = credentials_for_sites(("http://a.example", "https://b.example"), {"WP_CREDENTIALS_FILE": str(path)})
    assert found == {"https://b.example": Credentials("bee", "b pass")}


def test_a_credentials_file_may_name_an_international_site_as_it_is_written():
    """The crawl knows bücher.de as xn--bcher-kva.de (what Scrapy asks for); the file may say either."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "credentials.json"
        path.write_text(json.dumps({"https://bücher.de": {"username": "u", "app_password": "p q"}}), encoding="utf-8")
        found = credentials_for_sites(("https://xn--bcher-kva.de",), {"WP_CREDENTIALS_FILE": str(path)})
    assert found == {"https://xn--bcher-kva.de": Credentials("u", "p q")}


@pytest.mark.parametrize("content, message", [
    ("not json", "not valid JSON"),
    ('["a list"]', "expected an object of site URL to credentials"),
    ('{"https://a.example": {"username": "ay"}}', "'https://a.example' needs a username and an app_password"),
])
def test_a_wrong_credentials_file_is_named_without_revealing_secrets(tmp_path, content, message):
    path = tmp_path / "credentials.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CredentialsError) as raised:
        credentials_for_sites((A,), {"WP_CREDENTIALS_FILE": str(path)})
    assert str(raised.value).startswith(f"WP_CREDENTIALS_FILE {path}: ") and message in str(raised.value)


def test_a_username_without_a_password_is_refused():
    with pytest.raises(CredentialsError, match="WP_APP_PASSWORD is not set"):
        credentials_for_sites((A,), {"WP_USERNAME": "editor"})


def test_the_authorization_header_is_http_basic():
    assert Credentials("editor", "abcd efgh").authorization() == b"Basic ZWRpdG9yOmFiY2QgZWZnaA=="


def test_scrapys_http_cache_is_refused_with_credentials(tmp_path):
    """The cache writes each request's headers to disk, Authorization among them: exit 2 before anything is asked."""
    from tests.crawling import crawl

    result = crawl(tmp_path, "site=http://127.0.0.1:9", settings={"HTTPCACHE_ENABLED": "True"},
                   env={"WP_USERNAME": "editor", "WP_APP_PASSWORD": "abcd efgh ijkl"})
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "scrapy crawl: HTTPCACHE_ENABLED with credentials: Scrapy's HTTP cache writes each request's headers to disk, "
        "the application password among them; crawl without the cache")
    assert not list(tmp_path.rglob("*.jsonl")) and "abcd" not in result.stderr
