"""The URL policy: http(s) only, blocked networks refused when saved and again at connect time, DNS rebinding
defeated by connecting to the address that was checked (HTTP and HTTPS), bounded timeouts and excerpts."""
from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from appliance.config import WebhooksConfig
from appliance.url_policy import (EXCERPT_BYTES, ConnectionPool, UrlPolicy, UrlRefused, check_url, parse_url,
                                  post)
from tests.webhook_receiver import Receiver

DEFAULT = UrlPolicy.parse(WebhooksConfig().blocked_networks)
HOST = "hooks.example.test"


@pytest.mark.parametrize("address", ["169.254.169.254", "169.254.0.1", "fe80::1", "fe80::1%eth0",
                                     "::ffff:169.254.169.254", "100.100.100.200", "192.0.0.192", "fd00:ec2::254",
                                     "224.0.0.1", "ff02::1", "0.0.0.0", "::", "255.255.255.255"])
def test_default_policy_refuses_link_local_metadata_and_non_unicast(address):
    assert DEFAULT.refusal(address)


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.1.2.3", "192.168.1.20", "172.16.5.4", "fd12::1",
                                     "93.184.216.34", "2606:4700::1111"])
def test_default_policy_allows_loopback_lan_and_public(address):
    assert DEFAULT.refusal(address) is None


def test_the_blocklist_is_configurable():
    strict = UrlPolicy.parse("10.0.0.0/8, 127.0.0.0/8")
    assert strict.refusal("10.9.9.9") and strict.refusal("127.0.0.1") and strict.refusal("192.168.1.1") is None
    with pytest.raises(Exception, match="blocked_networks"):
        UrlPolicy.parse("10.0.0.0/8,not-a-network")


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "gopher://x", "example.com/hook",
                                 "http://", "https://user:pass@example.com/", "http://example.com:99999/",
                                 "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]:8080/"])
def test_urls_refused_when_saved(url):
    with pytest.raises(UrlRefused):
        check_url(url, DEFAULT)


def test_urls_accepted_when_saved():
    target = check_url("https://crm.local:8443/in?x=1", DEFAULT)
    assert (target.scheme, target.host, target.port, target.path) == ("https", "crm.local", 8443, "/in?x=1")
    assert check_url("http://192.168.1.10/hook", DEFAULT).port == 80
    assert parse_url("https://[::1]/").host == "::1"


@pytest.fixture
def dns(monkeypatch):
    """A resolver for ``hooks.example.test`` whose answers the test scripts (other names resolve as usual)."""
    real = socket.getaddrinfo
    answers: list[list[str]] = []
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != HOST:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, asked


def test_a_name_resolving_to_a_blocked_address_is_refused_before_connecting(dns):
    answers, asked = dns
    answers.append(["169.254.169.254"])
    check_url(f"http://{HOST}/hook", DEFAULT)  # a name passes when saved...
    result = post(f"http://{HOST}:80/hook", b"{}", {}, 2, DEFAULT)  # ...and is checked when connecting
    assert result.status is None and result.error.startswith("refused by the URL policy: 169.254.169.254")
    assert asked == [HOST]


def test_dns_rebinding_cannot_move_the_connection_after_the_check(dns):
    answers, asked = dns
    with Receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        # First answer passes the check; any later lookup would point at the metadata service.
        answers.extend([["127.0.0.1"], ["169.254.169.254"]])
        result = post(f"http://{HOST}:{port}/hook", b'{"a":1}', {"X-Test": "1"}, 2, DEFAULT)
        got = receiver.wait_for(1, 5)
    assert result.ok and asked == [HOST]  # resolved once; the connection went to the checked address
    assert got[0].headers["Host"] == f"{HOST}:{port}" and got[0].body == b'{"a":1}'


def test_only_allowed_addresses_of_a_mixed_answer_are_used(dns):
    answers, _ = dns
    with Receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        answers.append(["169.254.169.254", "127.0.0.1"])
        assert post(f"http://{HOST}:{port}/hook", b"{}", {}, 2, DEFAULT).ok
        assert receiver.count() == 1


def _certificate() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[str] = []

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        _Ok.seen.append(self.headers["Host"])
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_https_goes_to_the_checked_address_with_the_name_verified(dns, tmp_path):
    answers, _ = dns
    cert_pem, key_pem = _certificate()
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.socket = server_ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        answers.append(["127.0.0.1"])
        trusted = ssl.create_default_context(cadata=cert_pem.decode())
        ok = post(f"https://{HOST}:{port}/hook", b"{}", {}, 3, DEFAULT, context=trusted)
        untrusted = post(f"https://{HOST}:{port}/hook", b"{}", {}, 3, DEFAULT, context=ssl.create_default_context())
    finally:
        server.shutdown()
        server.server_close()
    assert ok.status == 204 and _Ok.seen[-1] == f"{HOST}:{port}"
    assert untrusted.status is None and untrusted.error.startswith("TLS error")


def test_timeouts_refusals_and_excerpts_are_bounded():
    with Receiver(delay=10) as hanging, Receiver(reply=b"y" * 100_000) as chatty:
        started = time.monotonic()
        slow = post(hanging.url, b"{}", {}, 0.5, DEFAULT)
        assert time.monotonic() - started < 2
        big = post(chatty.url, b"{}", {}, 2, DEFAULT)
    assert slow.status is None and slow.timed_out and slow.error == "timed out after 0.5 s"
    assert big.ok and len(big.excerpt) == EXCERPT_BYTES
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    refused = post(f"http://127.0.0.1:{port}/", b"{}", {}, 2, DEFAULT)
    assert refused.status is None and refused.error == "connection refused" and not refused.timed_out


def test_a_pool_reuses_connections():
    pool = ConnectionPool(per_host=2, max_age=30)
    with Receiver() as receiver, Receiver() as other:
        assert all(post(receiver.url, b"{}", {}, 2, DEFAULT, pool=pool).ok for _ in range(3))
        assert post(other.url, b"{}", {}, 2, DEFAULT, pool=pool).ok
        got = receiver.wait_for(3, 5)
    assert len({r.peer for r in got}) == 1  # one connection carried all three
    pool.close()


def test_a_pooled_connection_the_receiver_closed_is_replaced_transparently():
    pool = ConnectionPool(per_host=2, max_age=30)
    with Receiver(drop_idle=True) as receiver:
        results = [post(receiver.url, b"{}", {}, 2, DEFAULT, pool=pool) for _ in range(3)]
        got = receiver.wait_for(3, 5)
    assert all(r.ok for r in results) and len(got) == 3 and len({r.peer for r in got}) == 3
    pool.close()


def test_an_old_pooled_connection_is_not_reused():
    pool = ConnectionPool(per_host=2, max_age=0.2)
    with Receiver() as receiver:
        assert post(receiver.url, b"{}", {}, 2, DEFAULT, pool=pool).ok
        time.sleep(0.3)
        assert post(receiver.url, b"{}", {}, 2, DEFAULT, pool=pool).ok
        got = receiver.wait_for(2, 5)
    assert got[0].peer != got[1].peer
    pool.close()
