"""Security primitives: password hashing, signed tokens, API keys, secret encryption."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from appliance.errors import Unauthorized

# argon2id with modest memory so a 2-core mini-PC answers a login in well under 100 ms.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = _hasher.hash("callbox-timing-equalizer")

API_KEY_PREFIX = "cbk_"


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether the password matches; takes the same time when there is no stored hash."""
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def random_token(nbytes: int = 32) -> str:
    """A URL-safe random secret."""
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """SHA-256 of a high-entropy token (API keys, refresh tokens, invite links) for lookup at rest."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_api_key() -> str:
    """A fresh API key: shown once, stored only as its hash."""
    return API_KEY_PREFIX + secrets.token_urlsafe(30)


def hmac_sha256_hex(secret: str | bytes, body: bytes) -> str:
    """Hex HMAC-SHA256 (webhook signatures)."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _derive(secret_key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"callbox", info=purpose).derive(secret_key)


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    organization_id: str
    jti: str
    family_id: str | None
    expires_at: dt.datetime


class TokenSigner:
    """Issues and checks access tokens (HS256 JWT) with a key derived from the data directory's secret."""

    issuer = "callbox"

    cache_size = 10_000

    def __init__(self, secret_key: bytes, ttl_seconds: int):
        self._key = _derive(secret_key, b"jwt-signing")
        self.ttl_seconds = ttl_seconds
        self._verified: dict[str, AccessClaims] = {}

    def issue(self, user_id: str, organization_id: str, family_id: str | None = None) -> tuple[str, str]:
        """A new access token and its id (jti)."""
        now = dt.datetime.now(dt.timezone.utc)
        jti = secrets.token_hex(12)
        claims = {"sub": user_id, "org": organization_id, "jti": jti, "typ": "access", "iss": self.issuer,
                  "iat": now, "exp": now + dt.timedelta(seconds=self.ttl_seconds)}
        if family_id:
            claims["fam"] = family_id
        return jwt.encode(claims, self._key, algorithm="HS256"), jti

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid access token; ``Unauthorized`` for an expired, tampered or foreign one.

        A token already verified is remembered (bounded), so a client's repeated requests skip the JWT decode;
        expiry is still checked on every use, and revocation is the caller's database check.
        """
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at > dt.datetime.now(dt.timezone.utc).replace(tzinfo=None):
                return known
            raise Unauthorized("The access token has expired")
        claims = self._decode(token)
        if len(self._verified) >= self.cache_size:
            self._verified.clear()  # simple bound: tokens re-verify once after a clear
        self._verified[token] = claims
        return claims

    def _decode(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"], issuer=self.issuer,
                                options={"require": ["exp", "sub", "jti", "org"]})
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("The access token is not valid") from exc
        if claims.get("typ") != "access":
            raise Unauthorized("The access token is not valid")
        return AccessClaims(claims["sub"], claims["org"], claims["jti"], claims.get("fam"),
                            dt.datetime.fromtimestamp(claims["exp"], dt.timezone.utc).replace(tzinfo=None))


class SecretBox:
    """Encrypts secrets at rest (integration credentials, SIP passwords) with Fernet."""

    def __init__(self, secret_key: bytes):
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret_key, b"secret-box")))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as exc:
            raise ValueError("secret cannot be decrypted with this data directory's key") from exc


def mask(value: str | None) -> str | None:
    """How a write-only secret is shown: set or not, never its value."""
    if not value:
        return None
    return "********"
