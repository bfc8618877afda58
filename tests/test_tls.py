"""Certificates: with credentials set, every TLS certificate is verified, so that an application password never
goes to whoever answers for a site's host (Scrapy verifies none by default, and still does not for anonymous
crawls). A TLS server on 127.0.0.1 with certificates of a test CA made here, trusted through ``SSL_CERT_FILE``."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.crawling import assert_valid_records, crawl
from tests.faults import FaultProxy

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.wordpress.site import WordPressSite

CREDENTIALS = {"WP_USERNAME": "editor", "WP_APP_PASSWORD": "abcd efgh ijkl mnop"}


@dataclass
class Certificates:
    ca: Path
    for_127: tuple[Path, Path]
    """Certificate and key naming 127.0.0.1."""
    for_other_host: tuple[Path, Path]
    """Certificate and key naming other.example only."""


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    directory = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "viewworld test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def issue(name: str, subject: x509.GeneralName) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (x509.CertificateBuilder()
                       .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                       .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                       .not_valid_before(now - datetime.timedelta(days=1))
                       .not_valid_after(now + datetime.timedelta(days=1))
                       .add_extension(x509.SubjectAlternativeName([subject]), critical=False)
                       .sign(ca_key, hashes.SHA256()))
        paths = directory / f"{name}.pem", directory / f"{name}.key"
        paths[0].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        paths[1].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return paths

    return Certificates(directory / "ca.pem", issue("127.0.0.1", x509.IPAddress(ipaddress.ip_address("127.0.0.1"))),
                        issue("other.example", x509.DNSName("other.example")))


@dataclass
class TlsServer:
    url: str
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    """(path, Authorization header) of each request that got through the handshake."""


@pytest.fixture
def tls_server(request: pytest.FixtureRequest, certificates: Certificates) -> Iterator[TlsServer]:
    """Answers 404 to everything (no WordPress there: the crawl gives the site up after its first requests)."""
    certificate, key = getattr(certificates, request.param)
    seen: list[tuple[str, str | None]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            seen.append((self.path, self.headers.get("Authorization")))
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.write(b"not found\n")

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield TlsServer(f"https://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize("tls_server", ["for_127"], indirect=True)
def test_with_credentials_a_certificate_nobody_vouches_for_gets_no_request(tmp_path: Path,
                                                                         tls_server: TlsServer) -> None:
    result = crawl(tmp_path, f"site={tls_server.url}", env=CREDENTIALS)
    assert result.exit_code == 3, result.stderr
    assert tls_server.requests == []
    assert "TLS certificate not verified (certificate verify failed)" in result.log
    assert CREDENTIALS["WP_APP_PASSWORD"] not in result.log + result.stderr


@pytest.mark.parametrize("tls_server", ["for_127"], indirect=True)
def test_with_credentials_a_verified_certificate_lets_the_crawl_through(tmp_path: Path, tls_server: TlsServer,
                                                                      certificates: Certificates) -> None:
    result = crawl(tmp_path, f"site={tls_server.url}", env=CREDENTIALS | {"SSL_CERT_FILE": str(certificates.ca)})
    assert ("/robots.txt", None) in tls_server.requests
    assert ("/", None) in tls_server.requests
    assert "TLS certificate not verified" not in result.log


@pytest.mark.parametrize("tls_server", ["for_other_host"], indirect=True)
def test_with_credentials_a_certificate_for_another_host_gets_no_request(tmp_path: Path, tls_server: TlsServer,
                                                                       certificates: Certificates) -> None:
    result = crawl(tmp_path, f"site={tls_server.url}", env=CREDENTIALS | {"SSL_CERT_FILE": str(certificates.ca)})
    assert result.exit_code == 3, result.stderr
    assert tls_server.requests == []
    assert "TLS certificate not verified (it names another host)" in result.log


@pytest.mark.parametrize("tls_server", ["for_127"], indirect=True)
def test_without_credentials_certificates_are_not_verified_as_in_scrapy(tmp_path: Path, tls_server: TlsServer) -> None:
    crawl(tmp_path, f"site={tls_server.url}")
    assert ("/robots.txt", None) in tls_server.requests
    assert ("/", None) in tls_server.requests


def test_verification_cannot_be_turned_off_with_credentials(tmp_path: Path) -> None:
    result = crawl(tmp_path, "site=https://127.0.0.1:9", settings={"DOWNLOAD_VERIFY_CERTIFICATES": "False"},
                   env=CREDENTIALS)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "scrapy crawl: DOWNLOAD_VERIFY_CERTIFICATES=False with credentials: the application password would go to "
        "whoever answers for the site's host; crawl without credentials, or fix the site's certificate")


@pytest.mark.wordpress
def test_a_wordpress_that_writes_its_urls_with_http_is_crawled_over_https_with_its_credentials(
        wordpress_sites: dict[str, WordPressSite], certificates: Certificates, tmp_path: Path) -> None:
    """A WordPress behind a TLS proxy that believes it is served over http (its ``home`` is http) writes its API
    root and every ``_links`` href with http: the site given as https is crawled over https only (here nothing
    answers http on that port), and its application password goes with the revisions requests over TLS."""
    site = wordpress_sites["pretty"]
    truth = {post["id"]: post for post in site.truth()["posts"]}
    with FaultProxy(site.url, tls=certificates.for_127) as proxy:
        context = ssl.create_default_context(cafile=certificates.ca)
        with urllib.request.urlopen(proxy.url + "/", context=context) as home:  # noqa: S310 (https, loopback)
            assert f"<http://127.0.0.1:{proxy.port}/wp-json/>" in home.headers["Link"]
        result = crawl(tmp_path, f"site={proxy.url}", env={"WP_USERNAME": site.username,
                                                           "WP_APP_PASSWORD": site.app_password,
                                                           "SSL_CERT_FILE": str(certificates.ca)})
        revisions_requests = proxy.requests_to(r"wp/v2/posts/\d+/revisions")
    assert result.exit_code == 0, result.log[-3000:]
    items = result.items()
    assert_valid_records(items)
    assert {item["id"] for item in items} == set(truth)
    dangling = {post_id for post_id, post in truth.items() if "dangling_featured_media" in post["features"]}
    assert {item["id"] for item in items if item["errors"]} == dangling
    for item in items:
        expected = truth[item["id"]]
        assert item["author"] == expected["author"]
        assert [term["id"] for term in item["categories"]] == [term["id"] for term in expected["categories"]]
        assert (item["featured_media"] or {}).get("id") == (expected["featured_media"] or {}).get("id")
        assert len(item["revisions"]["items"] or []) == expected["revisions"]["count"]
    assert revisions_requests and all(seen.authorization for seen in revisions_requests)
    assert site.app_password not in result.log + result.stderr


def test_tls_session_keys_written_to_a_file_are_refused_with_credentials(tmp_path: Path) -> None:
    result = crawl(tmp_path, "site=https://127.0.0.1:9", env=CREDENTIALS | {"SSLKEYLOGFILE": str(tmp_path / "keys")})
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "scrapy crawl: SSLKEYLOGFILE with credentials: Scrapy writes each TLS session's keys there, and with a "
        "capture of the traffic they show the application password; unset it, or crawl without credentials")
    assert not (tmp_path / "keys").exists()
