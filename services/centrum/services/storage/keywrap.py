"""Key-encryption keys that wrap the data keys of objects: the local master key or Vault transit.

A wrapper turns a data key into an opaque blob bound to its object and back; `rewrap` moves a
blob to the newest version of the key-encryption key without the data key leaving the KEK's
holder (Vault transit rewraps server-side), so a KEK rotation never touches object bytes.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any, Protocol

import hvac
import requests

from centrum.interceptors.errors import Unavailable
from centrum.services.keys import MasterKey
from centrum.storage.v1 import object_pb2

__all__ = ["KeyWrapper", "LocalKeyWrapper", "TransitKeyWrapper"]

_RETRY_S = 1.0


class KeyWrapper(Protocol):
    """Wraps and unwraps data keys under a key-encryption key."""

    provider: int
    """The KeyProvider enum value recorded on objects."""
    key_id: str
    """Name of the key-encryption key."""

    async def wrap(self, data_key: bytes, blob_id: str) -> tuple[bytes, int]:
        """The wrapped data key and the KEK version that wrapped it."""
        ...

    async def unwrap(self, wrapped: bytes, blob_id: str) -> bytes:
        """The data key inside `wrapped`."""
        ...

    async def rewrap(self, wrapped: bytes, blob_id: str) -> tuple[bytes, int]:
        """`wrapped` re-wrapped under the newest KEK version, and that version."""
        ...

    async def rotate(self) -> int:
        """Creates a new KEK version for future wraps and returns it."""
        ...


def _purpose(blob_id: str) -> bytes:
    return b"centrum.storage.data-key:" + blob_id.encode()


class LocalKeyWrapper:
    """Wraps data keys under the local master key (one version; rotation rewraps in place)."""

    provider: int = object_pb2.KEY_PROVIDER_LOCAL
    key_id: str = "local-master-key"

    def __init__(self, master_key: MasterKey) -> None:
        self._master = master_key

    async def wrap(self, data_key: bytes, blob_id: str) -> tuple[bytes, int]:
        """Encrypts the data key under the master key, bound to its object."""
        return self._master.encrypt(data_key, _purpose(blob_id)), 1

    async def unwrap(self, wrapped: bytes, blob_id: str) -> bytes:
        """Decrypts a wrapped data key."""
        return self._master.decrypt(wrapped, _purpose(blob_id))

    async def rewrap(self, wrapped: bytes, blob_id: str) -> tuple[bytes, int]:
        """Re-encrypts the data key under a fresh nonce."""
        return await self.wrap(await self.unwrap(wrapped, blob_id), blob_id)

    async def rotate(self) -> int:
        """The local master key has a single version; rotating it is an offline operation."""
        return 1


class TransitKeyWrapper:
    """Wraps data keys with a Vault/OpenBao transit key; the KEK never leaves Vault."""

    provider: int = object_pb2.KEY_PROVIDER_VAULT_TRANSIT

    def __init__(self, client: hvac.Client, key_name: str, mount: str) -> None:
        self._client = client
        self.key_id: str = key_name
        self._mount = mount

    @classmethod
    def connect(cls, addr: str, token: str, key_name: str, mount: str) -> TransitKeyWrapper:
        """A wrapper talking to the transit engine at `addr/mount`."""
        return cls(hvac.Client(url=addr, token=token, timeout=10), key_name, mount)

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args, mount_point=self._mount, **kwargs)
        except (requests.RequestException, hvac.exceptions.VaultDown) as exc:
            raise Unavailable(
                "the key service (Vault transit) is unreachable",
                reason="KEY_SERVICE_UNAVAILABLE",
                retry_after_s=_RETRY_S,
            ) from exc

    async def ensure_key(self) -> None:
        """Creates the transit key when it does not exist yet."""
        transit = self._client.secrets.transit
        try:
            await self._call(transit.read_key, name=self.key_id)
        except hvac.exceptions.InvalidPath:
            await self._call(transit.create_key, name=self.key_id, key_type="aes256-gcm96")

    @staticmethod
    def _version(ciphertext: str) -> int:
        return int(ciphertext.split(":", 2)[1].removeprefix("v"))

    async def wrap(self, data_key: bytes, blob_id: str) -> tuple[bytes, int]:
        """Encrypts the data key with the newest transit key version."""
        response = await self._call(
            self._client.secrets.transit.encrypt_data,
            name=self.key_id,
            plaintext=base64.b64encode(data_key).decode(),
        )
        ciphertext: str = response["data"]["ciphertext"]
        return ciphertext.encode(), self._version(ciphertext)

    async def unwrap(self, wrapped: bytes, blob_id: str) -> bytes:
        """Decrypts a wrapped data key in Vault."""
        response = await self._call(
            self._client.secrets.transit.decrypt_data,
            name=self.key_id,
            ciphertext=wrapped.decode(),
        )
        return base64.b64decode(response["data"]["plaintext"])

    async def rewrap(self, wrapped: bytes, blob_id: str) -> tuple[bytes, int]:
        """Rewraps in Vault under the newest key version; the data key is never exposed."""
        response = await self._call(
            self._client.secrets.transit.rewrap_data,
            name=self.key_id,
            ciphertext=wrapped.decode(),
        )
        ciphertext: str = response["data"]["ciphertext"]
        return ciphertext.encode(), self._version(ciphertext)

    async def rotate(self) -> int:
        """Rotates the transit key and returns its new latest version."""
        await self._call(self._client.secrets.transit.rotate_key, name=self.key_id)
        response = await self._call(self._client.secrets.transit.read_key, name=self.key_id)
        return int(response["data"]["latest_version"])
