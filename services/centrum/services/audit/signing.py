"""Checkpoint signing: Ed25519 keys kept encrypted under the master key, C2SP signed notes.

Every replica that shares the master key signs with the same key. A replica whose master key
opens none of the stored keys (a separate data directory) adds a key of its own; all keys are
published by GetLogInfo, so clients verify checkpoints of either.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from centrum.sdk.audit import checkpoint_body, key_id
from centrum.services.audit.log import SqlAuditLog, StoredCheckpoint, StoredKey
from centrum.services.keys import MasterKey

__all__ = ["CheckpointSigner", "Checkpointer", "load_signer"]

_PURPOSE = b"centrum.audit.checkpoint-key:"


@dataclass(frozen=True)
class CheckpointSigner:
    """Signs checkpoint bodies as C2SP notes with one Ed25519 key named after the log's origin."""

    name: str
    key_id: bytes
    public_key: bytes
    private_key: ed25519.Ed25519PrivateKey

    def sign(self, body: str) -> str:
        """The signed note: body, blank line, `— <name> base64(key id || signature)`."""
        signature = self.private_key.sign(body.encode())
        encoded = base64.b64encode(self.key_id + signature).decode()
        return f"{body}\n\u2014 {self.name} {encoded}\n"


async def load_signer(log: SqlAuditLog, master_key: MasterKey, origin: str) -> CheckpointSigner:
    """The signing key of `origin` this master key opens, created and stored when none does."""
    for stored in await log.signing_keys():
        if stored.key_name != origin:
            continue
        try:
            raw = master_key.decrypt(stored.private_key, _PURPOSE + stored.key_id)
        except (InvalidTag, ValueError):
            continue
        private = ed25519.Ed25519PrivateKey.from_private_bytes(raw)
        return CheckpointSigner(origin, stored.key_id, stored.public_key, private)
    private = ed25519.Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    identifier = key_id(origin, public)
    await log.add_signing_key(
        StoredKey(
            identifier,
            origin,
            public,
            master_key.encrypt(raw, _PURPOSE + identifier),
            time.time_ns(),
        )
    )
    return CheckpointSigner(origin, identifier, public, private)


class Checkpointer:
    """Issues a signed checkpoint whenever the tree has grown past the latest one.

    The signing key is loaded (or created) on first use, so building the service needs no
    database round trip.
    """

    def __init__(
        self,
        log: SqlAuditLog,
        master_key: MasterKey,
        origin: str,
        *,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self._log = log
        self._master_key = master_key
        self._origin = origin
        self._clock_ns = clock_ns
        self._signer: CheckpointSigner | None = None
        self._loading = asyncio.Lock()

    async def signer(self) -> CheckpointSigner:
        """The key this replica signs with."""
        if self._signer is None:
            async with self._loading:
                if self._signer is None:
                    self._signer = await load_signer(self._log, self._master_key, self._origin)
        return self._signer

    async def issue(self) -> StoredCheckpoint:
        """Returns a checkpoint of the current tree, signing one if none covers it yet."""
        signer = await self.signer()

        def sign(size: int, root: bytes) -> StoredCheckpoint:
            now = self._clock_ns()
            note = signer.sign(checkpoint_body(self._origin, size, root, now))
            return StoredCheckpoint(size, root, now, signer.key_id, note)

        return await self._log.checkpoint_head(sign)
