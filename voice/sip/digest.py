"""HTTP digest authentication for SIP (RFC 3261 §22, RFC 2617, RFC 8760): 401 and 407 challenges.

pyVoIP's ``gen_authorization`` always signs ``sip:<server>;transport=UDP`` as the URI, ignores ``qop`` and
``opaque`` and cannot answer 407; this module computes credentials for the exact request being retried.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

_PARAM_RE = re.compile(r'([\w-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]+)')
_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


class DigestError(ValueError):
    """A challenge we cannot answer (unknown scheme or algorithm)."""


@dataclass(frozen=True)
class Challenge:
    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False
    proxy: bool = False
    """True for Proxy-Authenticate (answer with Proxy-Authorization)."""

    @property
    def response_header(self) -> str:
        """Name of the header that carries our credentials."""
        return "Proxy-Authorization" if self.proxy else "Authorization"


def parse_challenge(value: str, proxy: bool = False) -> Challenge:
    """Parse a WWW-Authenticate / Proxy-Authenticate value."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise DigestError(f"unsupported authentication scheme {scheme!r}")
    params = {k.lower(): v.strip('"') for k, v in _PARAM_RE.findall(rest)}
    if "realm" not in params or "nonce" not in params:
        raise DigestError("digest challenge without realm or nonce")
    algorithm = params.get("algorithm", "MD5").upper()
    if algorithm.removesuffix("-SESS") not in _HASHES:
        raise DigestError(f"unsupported digest algorithm {algorithm!r}")
    qop = tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip())
    if qop and "auth" not in qop:
        raise DigestError("only qop=auth is supported")
    return Challenge(params["realm"], params["nonce"], algorithm, qop, params.get("opaque"),
                     params.get("stale", "").lower() == "true", proxy)


def _h(algorithm: str, text: str) -> str:
    return _HASHES[algorithm.removesuffix("-SESS")](text.encode("utf-8")).hexdigest()


def digest_response(ch: Challenge, method: str, uri: str, username: str, password: str,
                    cnonce: str = "", nc: int = 1) -> str:
    """The ``response`` value for one request."""
    ha1 = _h(ch.algorithm, f"{username}:{ch.realm}:{password}")
    if ch.algorithm.endswith("-SESS"):
        ha1 = _h(ch.algorithm, f"{ha1}:{ch.nonce}:{cnonce}")
    ha2 = _h(ch.algorithm, f"{method}:{uri}")
    if "auth" in ch.qop:
        return _h(ch.algorithm, f"{ha1}:{ch.nonce}:{nc:08x}:{cnonce}:auth:{ha2}")
    return _h(ch.algorithm, f"{ha1}:{ch.nonce}:{ha2}")


def authorization(ch: Challenge, method: str, uri: str, username: str, password: str, nc: int = 1) -> str:
    """The full Authorization / Proxy-Authorization header value answering ``ch``."""
    cnonce = secrets.token_hex(8) if ch.qop or ch.algorithm.endswith("-SESS") else ""
    response = digest_response(ch, method, uri, username, password, cnonce, nc)
    parts = [f'username="{username}"', f'realm="{ch.realm}"', f'nonce="{ch.nonce}"', f'uri="{uri}"',
             f'response="{response}"', f"algorithm={ch.algorithm}"]
    if cnonce:
        parts.append(f'cnonce="{cnonce}"')
    if "auth" in ch.qop:
        parts += ["qop=auth", f"nc={nc:08x}"]
    if ch.opaque is not None:
        parts.append(f'opaque="{ch.opaque}"')
    return "Digest " + ", ".join(parts)


def challenge_from(response) -> Challenge:
    """The challenge of a 401/407 response (a parsed SipMessage)."""
    proxy = response.status_code == 407
    values = response.header_values("Proxy-Authenticate" if proxy else "WWW-Authenticate")
    if not values:
        raise DigestError(f"{response.status_code} without a challenge header")
    for value in values[:-1]:  # a server may offer several algorithms; take the first we can answer
        try:
            return parse_challenge(value, proxy)
        except DigestError:
            continue
    return parse_challenge(values[-1], proxy)
