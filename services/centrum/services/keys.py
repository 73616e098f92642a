"""The local master key: AES-256-GCM key wrapping for the embedded backends.

Signing keys, local secrets and object data keys are stored encrypted under this key when no
Vault/OpenBao is configured. The key is 32 random bytes in a 0600 file, created on first start.
Every ciphertext is bound to its purpose through associated data, so a blob cannot be moved from
one use to another.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["MasterKey"]

_VERSION = b"\x01"
_NONCE_BYTES = 12


class MasterKey:
    """Encrypts and decrypts small blobs (keys, secrets) under one 256-bit key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def load_or_create(cls, path: Path) -> MasterKey:
        """Reads the key at `path`, creating it (0600) when absent; refuses a shared file."""
        if not path.exists():
            _create_atomically(path, secrets.token_bytes(32))
        if path.stat().st_mode & 0o077:
            raise PermissionError(f"{path} is readable by other users; chmod 600 it")
        return cls(path.read_bytes())

    def encrypt(self, plaintext: bytes, purpose: bytes) -> bytes:
        """Returns version || nonce || ciphertext, bound to `purpose`."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, _VERSION + purpose)

    def decrypt(self, blob: bytes, purpose: bytes) -> bytes:
        """Reverses `encrypt`; raises `cryptography.exceptions.InvalidTag` when tampered."""
        if blob[:1] != _VERSION:
            raise ValueError("unknown master-key ciphertext version")
        nonce, ciphertext = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        return self._aead.decrypt(nonce, ciphertext, _VERSION + purpose)


def _create_atomically(path: Path, key: bytes) -> None:
    """Writes a complete key file under `path` unless one exists; never a partial file.

    Processes starting together (serve --workers) may race here: each writes a temporary file
    and hard-links it into place, which fails for all but the first, who then read the winner's.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process won; its key is complete
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
