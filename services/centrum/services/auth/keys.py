"""The signing key ring: keys that sign access tokens, their rotation and the published JWKS.

Private keys live either in the database, encrypted under the local master key, or inside
Vault/OpenBao transit, which signs so that they never leave it. A key's place in its lifecycle
follows from its activation time alone, so every replica agrees without coordination: the key
with the latest activation time in the past signs; a key whose activation is still ahead is
pending (published, not signing); earlier keys are retired and stay published until every token
they signed has expired (their successor's activation plus the longest token lifetime). A
withdrawn key (compromise) leaves the JWKS at once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import jwt as pyjwt
import sqlalchemy as sa
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from sqlalchemy.ext.asyncio import AsyncEngine

from centrum.interceptors.errors import Unavailable
from centrum.services.auth.tables import signing_keys
from centrum.services.auth.transactions import writing
from centrum.services.keys import MasterKey

__all__ = ["KeyRing", "KeyState", "KeyView", "LocalKeys", "SigningBackend", "TransitKeys"]

_log = structlog.get_logger("centrum.auth.keys")
_PRIVATE_PURPOSE = b"centrum.auth.signing-key:"
_RETIRE_LEEWAY_S = 60.0
_TRANSIT_TYPES = {"EdDSA": "ed25519", "ES256": "ecdsa-p256", "RS256": "rsa-3072"}


class KeyState:
    """Lifecycle states, as in the contract's SigningKeyState."""

    PENDING = 1
    ACTIVE = 2
    RETIRED = 3


@dataclass(frozen=True)
class KeyView:
    """One signing key as operators see it (never private material)."""

    kid: str
    algorithm: str
    storage: str
    state: int
    public_jwk: Mapping[str, Any]
    created_at: float
    activate_at: float
    retire_at: float | None
    expire_at: float | None


class SigningBackend(Protocol):
    """Creates key pairs and signs with them; where the private keys live is its business."""

    storage: str
    """"local" or "transit"."""

    async def create(self, kid: str, algorithm: str) -> tuple[dict[str, Any], bytes | None]:
        """Creates a key pair: returns its public JWK and the blob to store (None if kept away)."""
        ...

    async def sign(self, kid: str, algorithm: str, blob: bytes | None, message: bytes) -> bytes:
        """The JWS signature of `message` (raw r||s for ES256)."""
        ...


def _public_jwk(public_key: Any, algorithm: str) -> dict[str, Any]:
    if algorithm == "EdDSA":
        text = pyjwt.algorithms.OKPAlgorithm.to_jwk(public_key)
    elif algorithm == "ES256":
        text = pyjwt.algorithms.ECAlgorithm.to_jwk(public_key)
    else:
        text = pyjwt.algorithms.RSAAlgorithm.to_jwk(public_key)
    return dict(json.loads(text))


class LocalKeys:
    """Private keys in the database, AES-GCM encrypted under the master key."""

    storage = "local"

    def __init__(self, master_key: MasterKey) -> None:
        self._master_key = master_key
        self._loaded: dict[str, Any] = {}

    async def create(self, kid: str, algorithm: str) -> tuple[dict[str, Any], bytes | None]:
        """Generates a key pair and returns its public JWK and encrypted private key."""
        private: Any
        if algorithm == "EdDSA":
            private = ed25519.Ed25519PrivateKey.generate()
        elif algorithm == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
        else:
            private = await asyncio.to_thread(rsa.generate_private_key, 65537, 3072)
        der = private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        blob = self._master_key.encrypt(der, _PRIVATE_PURPOSE + kid.encode())
        self._loaded[kid] = private
        return _public_jwk(private.public_key(), algorithm), blob

    async def sign(self, kid: str, algorithm: str, blob: bytes | None, message: bytes) -> bytes:
        """Signs with the decrypted private key (decrypted once per process)."""
        private = self._loaded.get(kid)
        if private is None:
            if blob is None:
                raise Unavailable("the signing key is not available", retry_after_s=1.0)
            der = self._master_key.decrypt(blob, _PRIVATE_PURPOSE + kid.encode())
            private = serialization.load_der_private_key(der, password=None)
            self._loaded[kid] = private
        algo = pyjwt.get_algorithm_by_name(algorithm)
        return algo.sign(message, private)


class TransitKeys:
    """Private keys inside Vault/OpenBao transit, one transit key per kid; transit signs."""

    storage = "transit"

    def __init__(self, client: Any, *, mount: str, prefix: str) -> None:
        self._client = client
        self._mount = mount
        self._prefix = prefix

    def name(self, kid: str) -> str:
        """The transit key name of `kid`."""
        return self._prefix + kid

    async def create(self, kid: str, algorithm: str) -> tuple[dict[str, Any], bytes | None]:
        """Creates the transit key and reads back its public key."""
        name = self.name(kid)

        def create() -> Any:
            transit = self._client.secrets.transit
            transit.create_key(
                name=name, key_type=_TRANSIT_TYPES[algorithm], mount_point=self._mount
            )
            return transit.read_key(name=name, mount_point=self._mount)

        data = (await self._call(create))["data"]
        public = data["keys"]["1"]["public_key"]
        key: Any
        if algorithm == "EdDSA":
            key = ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(public))
        else:
            key = serialization.load_pem_public_key(public.encode())
        return _public_jwk(key, algorithm), None

    async def sign(self, kid: str, algorithm: str, blob: bytes | None, message: bytes) -> bytes:
        """Asks transit to sign `message`."""
        options: dict[str, Any] = {}
        if algorithm == "ES256":
            options = {"hash_algorithm": "sha2-256", "marshaling_algorithm": "jws"}
        elif algorithm == "RS256":
            options = {"hash_algorithm": "sha2-256", "signature_algorithm": "pkcs1v15"}

        def sign() -> Any:
            return self._client.secrets.transit.sign_data(
                name=self.name(kid),
                hash_input=base64.b64encode(message).decode(),
                mount_point=self._mount,
                **options,
            )

        signature = str((await self._call(sign))["data"]["signature"]).rsplit(":", 1)[-1]
        signature = signature.replace("+", "-").replace("/", "_").rstrip("=")
        return base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))

    async def _call(self, operation: Callable[[], Any]) -> Any:
        try:
            return await asyncio.to_thread(operation)
        except Exception as exc:
            _log.warning("transit call failed", error=type(exc).__name__)
            raise Unavailable(
                "the key service (Vault/OpenBao transit) is unreachable",
                reason="KEY_SERVICE_UNAVAILABLE",
                retry_after_s=1.0,
            ) from None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class _Row:
    kid: str
    algorithm: str
    storage: str
    blob: bytes | None
    jwk: dict[str, Any]
    created_at: float
    activate_at: float
    withdrawn_at: float | None


class KeyRing:
    """The key ring of one deployment: signs tokens, publishes the JWKS, rotates keys.

    It is also the chain's `KeySource`: `fetch_jwks` reads the published keys in-process.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        backend: SigningBackend,
        *,
        keyring: str,
        algorithm: str,
        max_token_ttl_s: float,
        refresh_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._backend = backend
        self.keyring = keyring
        self.algorithm = algorithm
        self._max_token_ttl_s = max_token_ttl_s
        self._refresh_s = refresh_s
        self._clock = clock
        self._rows: list[_Row] = []
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()
        self._verify_keys: dict[str, pyjwt.PyJWK] = {}

    @staticmethod
    def local_id(master_key_bytes: bytes) -> str:
        """The key ring of a master key: a one-way fingerprint, so replicas sharing it agree."""
        digest = hashlib.sha256(b"centrum.auth.keyring\x00" + master_key_bytes).hexdigest()
        return "local:" + digest[:32]

    async def start(self) -> None:
        """Loads the ring and creates the first key when it has none."""
        await self._reload()
        if not any(r.withdrawn_at is None for r in self._rows):
            await self._insert(await self._new_row(self.algorithm, self._clock()))
            await self._reload()

    async def _new_row(self, algorithm: str, activate_at: float) -> _Row:
        kid = "k" + secrets.token_hex(8)
        jwk, blob = await self._backend.create(kid, algorithm)
        jwk.update({"kid": kid, "alg": algorithm, "use": "sig"})
        return _Row(
            kid, algorithm, self._backend.storage, blob, jwk, self._clock(), activate_at, None
        )

    async def _insert(self, row: _Row) -> None:
        async with writing(self._engine) as connection:
            await connection.execute(
                sa.insert(signing_keys).values(
                    kid=row.kid,
                    keyring=self.keyring,
                    algorithm=row.algorithm,
                    storage=row.storage,
                    transit_key=row.kid if row.storage == "transit" else None,
                    encrypted_private_key=row.blob,
                    public_jwk=json.dumps(row.jwk),
                    created_at=row.created_at,
                    activate_at=row.activate_at,
                    withdrawn_at=None,
                )
            )

    async def _reload(self) -> None:
        async with self._engine.connect() as connection:
            result = await connection.execute(
                sa.select(signing_keys)
                .where(signing_keys.c.keyring == self.keyring)
                .order_by(signing_keys.c.activate_at, signing_keys.c.kid)
            )
            rows = [
                _Row(
                    r.kid,
                    r.algorithm,
                    r.storage,
                    r.encrypted_private_key,
                    json.loads(r.public_jwk),
                    r.created_at,
                    r.activate_at,
                    r.withdrawn_at,
                )
                for r in result
            ]
        self._rows = rows
        self._loaded_at = self._clock()
        self._verify_keys = {r.kid: pyjwt.PyJWK(r.jwk) for r in rows if r.withdrawn_at is None}

    async def _current_rows(self) -> list[_Row]:
        if self._clock() - self._loaded_at >= self._refresh_s:
            async with self._lock:
                if self._clock() - self._loaded_at >= self._refresh_s:
                    await self._reload()
        return self._rows

    def _views(self, rows: Sequence[_Row], now: float) -> list[KeyView]:
        live = [r for r in rows if r.withdrawn_at is None or r.withdrawn_at > now]
        started = [r for r in live if r.activate_at <= now]
        views = []
        for row in live:
            if row.activate_at > now:
                views.append(_view(row, KeyState.PENDING, None, None))
                continue
            position = started.index(row)
            if position == len(started) - 1:
                views.append(_view(row, KeyState.ACTIVE, None, None))
                continue
            retire_at = started[position + 1].activate_at
            expire_at = retire_at + self._max_token_ttl_s + _RETIRE_LEEWAY_S
            if expire_at > now:
                views.append(_view(row, KeyState.RETIRED, retire_at, expire_at))
        return views

    async def published(self) -> list[KeyView]:
        """The keys in the JWKS now: pending, active, and retired ones still needed."""
        return self._views(await self._current_rows(), self._clock())

    async def fetch_jwks(self) -> Sequence[Mapping[str, Any]]:
        """The public JWKs for verification (the chain's KeySource); always read fresh."""
        async with self._lock:
            await self._reload()
        return [view.public_jwk for view in self._views(self._rows, self._clock())]

    async def sign(self, claims: Mapping[str, Any]) -> tuple[str, str]:
        """Signs `claims` with the active key; returns (token, kid)."""
        now = self._clock()
        rows = await self._current_rows()
        active = [r for r in rows if r.activate_at <= now and (r.withdrawn_at or now + 1) > now]
        if not active:
            raise Unavailable("no signing key is active yet", retry_after_s=1.0)
        row = active[-1]
        header = {"alg": row.algorithm, "kid": row.kid, "typ": "JWT"}
        signing_input = (
            _b64(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64(json.dumps(dict(claims), separators=(",", ":")).encode())
        )
        signature = await self._backend.sign(
            row.kid, row.algorithm, row.blob, signing_input.encode()
        )
        return f"{signing_input}.{_b64(signature)}", row.kid

    async def trusts(self, kid: str) -> bool:
        """Tells whether `kid` is a key of the ring that was not withdrawn."""
        await self._current_rows()
        return kid in self._verify_keys

    async def decode(self, token: str, *, issuer: str) -> dict[str, Any] | None:
        """The claims of a valid, unexpired token this ring signed (any audience), else None."""
        try:
            header = pyjwt.get_unverified_header(token)
        except pyjwt.PyJWTError:
            return None
        kid = str(header.get("kid", ""))
        await self._current_rows()
        key = self._verify_keys.get(kid)
        if key is None or header.get("alg") != key.algorithm_name:
            return None
        if kid not in {v.kid for v in self._views(self._rows, self._clock())}:
            return None
        try:
            return dict(
                pyjwt.decode(
                    token,
                    key=key.key,
                    algorithms=[key.algorithm_name],
                    issuer=issuer,
                    options={
                        "verify_aud": False,
                        "require": ["exp", "iat", "nbf", "iss", "sub", "jti"],
                    },
                )
            )
        except pyjwt.PyJWTError:
            return None

    async def rotate(
        self, *, algorithm: str | None, activation_delay_s: float, retire_immediately: bool
    ) -> KeyView:
        """Adds the next key, activating after the delay (at once when retiring the current)."""
        now = self._clock()
        row = await self._new_row(
            algorithm or self.algorithm, now if retire_immediately else now + activation_delay_s
        )
        await self._insert(row)
        if retire_immediately:
            async with writing(self._engine) as connection:
                await connection.execute(
                    sa.update(signing_keys)
                    .where(
                        signing_keys.c.keyring == self.keyring,
                        signing_keys.c.kid != row.kid,
                        signing_keys.c.withdrawn_at.is_(None),
                    )
                    .values(withdrawn_at=now)
                )
        async with self._lock:
            await self._reload()
        return next(v for v in self._views(self._rows, self._clock()) if v.kid == row.kid)


def _view(row: _Row, state: int, retire_at: float | None, expire_at: float | None) -> KeyView:
    return KeyView(
        kid=row.kid,
        algorithm=row.algorithm,
        storage=row.storage,
        state=state,
        public_jwk=row.jwk,
        created_at=row.created_at,
        activate_at=row.activate_at,
        retire_at=retire_at,
        expire_at=expire_at,
    )
