"""Service identity on internal calls (SPEC §11): who is calling, proved by a signature, not by
the network.

Each calling service holds an Ed25519 private key of its own (`<SERVICE>_IDENTITY_KEY`) and sends
`Authorization: Bearer <JWT>`: EdDSA-signed, `iss` = the caller, `aud` = the callee, `kid` = the
key's id, valid for a few minutes. Every service knows the callers' public keys
(`PAYSAGA_SERVICE_KEYS`, public: `name=<key>,name=<key>,...`, several per name while a key is
rotated) and each route names the callers it lets in: a missing, forged, expired or misaddressed
token is a 401, a valid one from a caller the route does not name a 403.

Cheap on the hot path: a caller signs a token once per audience and reuses it until shortly before
it expires; a callee verifies each distinct token once and then finds it in a small cache (the
signature check costs ~0.1 ms, the cache lookup a dict access).
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import jwt
from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALGORITHM = "EdDSA"
TOKEN_LIFETIME_SECONDS = 300
# A caller renews its token this long before it expires, so none arrives expired.
RENEW_BEFORE_SECONDS = 60
# A token valid for longer than this is refused, whoever signed it: a leaked one is short-lived.
MAX_LIFETIME_SECONDS = 900
CLOCK_SKEW_SECONDS = 30


class IdentityError(Exception):
    """The caller's identity could not be established (401)."""


class KeyFormatError(ValueError):
    """A key in the settings is not a base64url-encoded raw Ed25519 key."""


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def private_key(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from its base64url 32-byte seed (what `paysaga keys` prints)."""
    try:
        return Ed25519PrivateKey.from_private_bytes(_b64decode(text.strip()))
    except (ValueError, InvalidKey) as exc:
        raise KeyFormatError("not a base64url-encoded 32-byte Ed25519 private key") from exc


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The base64url raw public key of a private key, as `PAYSAGA_SERVICE_KEYS` lists it."""
    return _b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def new_private_key_text() -> str:
    """A fresh private key, base64url-encoded."""
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return _b64encode(raw)


def key_id(owner: str, public: Ed25519PublicKey) -> str:
    """`<owner>/<fingerprint>`: names the key in a token's header."""
    digest = hashlib.sha256(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()
    return f"{owner}/{digest[:16]}"


@dataclass(frozen=True, slots=True)
class PublicKey:
    owner: str
    key: Ed25519PublicKey


def parse_service_keys(text: str) -> dict[str, PublicKey]:
    """`PAYSAGA_SERVICE_KEYS` (`name=<base64url key>,...`) by key id."""
    keys: dict[str, PublicKey] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        owner, sep, encoded = item.partition("=")
        owner = owner.strip()
        if not sep or not owner:
            raise KeyFormatError(f"{item[:20]!r}…: expected name=<base64url public key>")
        try:
            public = Ed25519PublicKey.from_public_bytes(_b64decode(encoded.strip()))
        except (ValueError, InvalidKey) as exc:
            raise KeyFormatError(f"the key of {owner!r} is not a base64url-encoded 32-byte Ed25519 key") from exc
        keys[key_id(owner, public)] = PublicKey(owner, public)
    return keys


def service_keys_text(private_keys: Mapping[str, str]) -> str:
    """`PAYSAGA_SERVICE_KEYS` for the given services' private keys (what the devstack derives)."""
    return ",".join(f"{name}={public_key_text(private_key(text))}" for name, text in sorted(private_keys.items()))


class ServiceIdentity:
    """The calling side: `authorization(audience)` is the header value to send to that service."""

    def __init__(self, name: str, key: Ed25519PrivateKey, *, lifetime: int = TOKEN_LIFETIME_SECONDS) -> None:
        self.name = name
        self._key = key
        self._kid = key_id(name, key.public_key())
        self._lifetime = lifetime
        self._tokens: dict[str, tuple[str, float]] = {}

    @classmethod
    def from_text(cls, name: str, text: str) -> ServiceIdentity:
        return cls(name, private_key(text))

    def token(self, audience: str) -> str:
        now = time.time()
        cached = self._tokens.get(audience)
        if cached is not None and cached[1] - RENEW_BEFORE_SECONDS > now:
            return cached[0]
        issued = int(now)
        claims = {"iss": self.name, "aud": audience, "iat": issued, "exp": issued + self._lifetime}
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self._kid})
        self._tokens[audience] = (token, issued + self._lifetime)
        return token

    def authorization(self, audience: str) -> str:
        return f"Bearer {self.token(audience)}"


class ServiceVerifier:
    """The called side: `caller(token)` is the name of the service that signed it, for this audience."""

    def __init__(self, audience: str, keys: Mapping[str, PublicKey], *, cache_size: int = 4096) -> None:
        self.audience = audience
        self._keys = dict(keys)
        self._cache: dict[str, tuple[str, float]] = {}
        self._cache_size = cache_size

    @classmethod
    def from_text(cls, audience: str, service_keys: str) -> ServiceVerifier:
        return cls(audience, parse_service_keys(service_keys))

    @property
    def known_callers(self) -> set[str]:
        return {key.owner for key in self._keys.values()}

    def caller(self, token: str) -> str:
        now = time.time()
        cached = self._cache.get(token)
        if cached is not None:
            if cached[1] + CLOCK_SKEW_SECONDS > now:
                return cached[0]
            del self._cache[token]
        caller, expires = self._verify(token)
        if len(self._cache) >= self._cache_size:
            self._cache.clear()  # callers reuse their tokens: a full cache is rare, and refills quickly
        self._cache[token] = (caller, expires)
        return caller

    def _verify(self, token: str) -> tuple[str, float]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as exc:
            raise IdentityError(f"malformed token: {exc}") from exc
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise IdentityError("the token is signed with a key this service does not know")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=key.owner,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "aud", "iat", "exp"]},
            )
        except jwt.InvalidTokenError as exc:
            raise IdentityError(f"invalid token: {exc}") from exc
        if claims["exp"] - claims["iat"] > MAX_LIFETIME_SECONDS:
            raise IdentityError(f"the token is valid for longer than {MAX_LIFETIME_SECONDS} s")
        return key.owner, float(claims["exp"])


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def service_identity(name: str, key_text: str, variable: str) -> ServiceIdentity:
    """The service's identity from its private key setting; a key that is not one stops the start,
    naming the variable."""
    from paysaga.platform.secrets import InsecureSecrets

    try:
        return ServiceIdentity.from_text(name, key_text)
    except KeyFormatError as exc:
        raise InsecureSecrets(f"{variable}: {exc} (`paysaga keys` makes one)") from exc


def allowed_text(callers: Iterable[str]) -> str:
    return ", ".join(sorted(callers))
