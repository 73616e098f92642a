"""Client-side verification of the Audit log, trusting nothing the server says without proof.

* RFC 6962 / RFC 9162 hashing and proof checks: :func:`verify_inclusion`,
  :func:`verify_consistency`.
* C2SP signed notes and tlog checkpoints with Ed25519 keys: :func:`verify_note`,
  :func:`parse_checkpoint`. Ed25519 uses `cryptography` when it is installed and a pure-Python
  RFC 8032 verifier otherwise, so the SDK needs nothing beyond the standard library.
* :class:`LogVerifier` keeps the last verified checkpoint (in memory, and in a state file when
  given one) and refuses a checkpoint that is not a consistent extension of it: a server that
  rolled its log back or rewrote history is detected.

    verifier = LogVerifier(origin, [verifier_key], state_file=Path("audit-state.json"))
    async with centrum.sdk.aio.connect(target, token=token) as client:
        checkpoint = await verifier.refresh(client.audit)        # raises on rollback or fork
        entry = await client.audit.GetEntry(GetEntryRequest(index=7, include_leaf_value=True,
            include_inclusion_proof=True, tree_size=checkpoint.tree_size))
        verifier.verify_entry(entry.entry, entry.inclusion_proof)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ForkError",
    "LogVerifier",
    "NoteError",
    "ProofError",
    "RollbackError",
    "VerificationError",
    "VerifiedCheckpoint",
    "VerifierKey",
    "checkpoint_body",
    "ed25519_verify",
    "key_id",
    "leaf_hash",
    "node_hash",
    "parse_checkpoint",
    "verifier_key",
    "verify_consistency",
    "verify_inclusion",
    "verify_note",
]

_SIGNATURE_ED25519 = 0x01
_EM_DASH = "\u2014"


class VerificationError(Exception):
    """Something the server returned does not verify."""


class ProofError(VerificationError):
    """An inclusion or consistency proof does not verify."""


class NoteError(VerificationError):
    """A signed note is malformed, or no trusted key signed it."""


class RollbackError(VerificationError):
    """The server presented a smaller tree than one already verified."""


class ForkError(VerificationError):
    """The server presented a tree that does not extend the one already verified."""


# -- RFC 6962 hashing and proofs ------------------------------------------------------------------


def leaf_hash(value: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || value)."""
    return hashlib.sha256(b"\x00" + value).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Checks that `leaf` (a leaf hash) is at `index` in the tree of `size` with `root`.

    RFC 9162 section 2.1.3.2; raises :class:`ProofError` when it does not verify.
    """
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of {size} leaves")
    fn, sn, current = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            current = node_hash(sibling, current)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            current = node_hash(current, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if current != root:
        raise ProofError(f"leaf {index} is not in the tree of {size} leaves with this root")


def verify_consistency(
    first_size: int,
    second_size: int,
    proof: Sequence[bytes],
    first_root: bytes,
    second_root: bytes,
) -> None:
    """Checks that the tree (first_size, first_root) is a prefix of (second_size, second_root).

    RFC 9162 section 2.1.4.2; raises :class:`ProofError` when it does not verify.
    """
    if not 0 <= first_size <= second_size:
        raise ProofError(f"no consistency from {first_size} to {second_size} leaves")
    if first_size == second_size:
        if proof or first_root != second_root:
            raise ProofError("trees of equal size must have equal roots and an empty proof")
        return
    if first_size == 0:
        if proof:
            raise ProofError("the consistency proof from the empty tree must be empty")
        return
    path = list(proof)
    if first_size & (first_size - 1) == 0:
        path.insert(0, first_root)
    if not path:
        raise ProofError("consistency proof is empty")
    fn, sn = first_size - 1, second_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first_hash = second_hash = path[0]
    for node in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            first_hash = node_hash(node, first_hash)
            second_hash = node_hash(node, second_hash)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            second_hash = node_hash(second_hash, node)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if first_hash != first_root or second_hash != second_root:
        raise ProofError(f"the tree of {second_size} leaves does not extend that of {first_size}")


# -- Ed25519 verification (RFC 8032) --------------------------------------------------------------

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_Point = tuple[int, int, int, int]


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    if x2 % _P == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if x & 1 != sign:
        x = _P - x
    return x


def _add(a: _Point, b: _Point) -> _Point:
    e1 = (a[1] - a[0]) * (b[1] - b[0]) % _P
    e2 = (a[1] + a[0]) * (b[1] + b[0]) % _P
    c = 2 * a[3] * b[3] * _D % _P
    d = 2 * a[2] * b[2] % _P
    e, f, g, h = e2 - e1, d - c, d + c, e2 + e1
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _multiply(scalar: int, point: _Point) -> _Point:
    result: _Point = (0, 1, 1, 0)
    while scalar:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def _decompress(data: bytes) -> _Point | None:
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_GY = 4 * pow(5, _P - 2, _P) % _P
_GX = _recover_x(_GY, 0)
assert _GX is not None
_G: _Point = (_GX, _GY, 1, _GX * _GY % _P)


def _pure_ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """RFC 8032 section 5.1.7 verification, in pure Python (slow, but needs no dependency)."""
    if len(signature) != 64:
        return False
    a = _decompress(public_key)
    r = _decompress(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little")
    left = _multiply(s, _G)
    right = _add(r, _multiply(h % _L, a))
    return (left[0] * right[2] - right[0] * left[2]) % _P == 0 and (
        left[1] * right[2] - right[1] * left[2]
    ) % _P == 0


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Tells whether `signature` is a valid Ed25519 signature of `message` by `public_key`."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:  # pragma: no cover - the SDK alone has no cryptography
        return _pure_ed25519_verify(public_key, message, signature)
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# -- C2SP signed notes and checkpoints ------------------------------------------------------------


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte note key id of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    return hashlib.sha256(
        name.encode() + b"\n" + bytes([_SIGNATURE_ED25519]) + public_key
    ).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The C2SP verifier key string `<name>+<hex key id>+<base64(0x01 || key)>`."""
    encoded = base64.b64encode(bytes([_SIGNATURE_ED25519]) + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class VerifierKey:
    """A parsed verifier key: who signs, under which id, with which Ed25519 public key."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Parses `<name>+<hex key id>+<base64 key>`; raises :class:`NoteError` when malformed."""
        try:
            name, hex_id, encoded = text.split("+", 2)
            raw = base64.b64decode(encoded, validate=True)
            identifier = bytes.fromhex(hex_id)
        except (ValueError, binascii.Error) as exc:
            raise NoteError(f"malformed verifier key {text!r}") from exc
        if len(raw) != 33 or raw[0] != _SIGNATURE_ED25519 or len(identifier) != 4:
            raise NoteError(f"verifier key {text!r} is not an Ed25519 note key")
        if key_id(name, raw[1:]) != identifier:
            raise NoteError(f"verifier key {text!r} has a wrong key id")
        return cls(name, identifier, raw[1:])


def checkpoint_body(origin: str, size: int, root: bytes, timestamp_ns: int) -> str:
    """The C2SP tlog-checkpoint body with a `Timestamp: <unix ns>` extension line."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\nTimestamp: {timestamp_ns}\n"


def verify_note(note: str, keys: Sequence[VerifierKey]) -> tuple[str, VerifierKey]:
    """Returns the body of `note` and the trusted key that signed it.

    Raises :class:`NoteError` when the note is malformed or no key in `keys` signed it.
    """
    separator = note.rfind("\n\n")
    if separator < 0 or not note.endswith("\n"):
        raise NoteError("a signed note is a body, a blank line and signature lines")
    body, signatures = note[: separator + 1], note[separator + 2 :]
    for line in signatures.splitlines():
        prefix, _, rest = line.partition(" ")
        name, _, encoded = rest.rpartition(" ")
        if prefix != _EM_DASH or not name:
            raise NoteError(f"malformed signature line {line!r}")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise NoteError(f"malformed signature line {line!r}") from exc
        for key in keys:
            if key.name == name and raw[:4] == key.key_id:
                if ed25519_verify(key.public_key, body.encode(), raw[4:]):
                    return body, key
                raise NoteError(f"the signature of {name} does not verify")
    raise NoteError("no trusted key signed the note")


@dataclass(frozen=True)
class VerifiedCheckpoint:
    """A checkpoint whose signature verified: the tree's origin, size and root hash."""

    origin: str
    tree_size: int
    root_hash: bytes
    timestamp_ns: int
    note: str


def parse_checkpoint(body: str, note: str = "") -> VerifiedCheckpoint:
    """Parses a tlog-checkpoint body (origin, size, base64 root, extension lines)."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint body has an origin, a size and a root hash line")
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteError("malformed checkpoint size or root hash") from exc
    if size < 0 or len(root) != 32 or str(size) != lines[1]:
        raise NoteError("malformed checkpoint size or root hash")
    timestamp = 0
    for extension in lines[3:-1]:
        if extension.startswith("Timestamp: "):
            timestamp = int(extension.removeprefix("Timestamp: "))
    return VerifiedCheckpoint(lines[0], size, root, timestamp, note)


class LogVerifier:
    """Verifies what one audit log serves, remembering the last checkpoint it verified.

    `origin` and `keys` are pinned (from configuration, or from GetLogInfo on first use). With a
    `state_file` the last verified checkpoint survives restarts, so a server that presents an
    older or a different history later is detected then too.
    """

    def __init__(
        self, origin: str, keys: Sequence[str | VerifierKey], state_file: Path | None = None
    ) -> None:
        self.origin = origin
        self.keys = [k if isinstance(k, VerifierKey) else VerifierKey.parse(k) for k in keys]
        self._state_file = state_file
        self.latest: VerifiedCheckpoint | None = None
        if state_file is not None and state_file.exists():
            state = json.loads(state_file.read_text())
            self.latest = self.verify_checkpoint(state["note"])

    def verify_checkpoint(self, note: str) -> VerifiedCheckpoint:
        """Checks the note's signature and origin; does not compare with the last checkpoint."""
        body, _ = verify_note(note, self.keys)
        checkpoint = parse_checkpoint(body, note)
        if checkpoint.origin != self.origin:
            raise NoteError(f"checkpoint of log {checkpoint.origin!r}, not {self.origin!r}")
        return checkpoint

    def advance(self, note: str, consistency_proof: Sequence[bytes]) -> VerifiedCheckpoint:
        """Accepts a newer checkpoint if it consistently extends the last verified one.

        Raises :class:`RollbackError` for a smaller tree, :class:`ForkError` for a tree that is
        not an extension (a bad proof, or another root at the same size).
        """
        checkpoint = self.verify_checkpoint(note)
        known = self.latest
        if known is not None:
            if checkpoint.tree_size < known.tree_size:
                raise RollbackError(
                    f"the log shrank from {known.tree_size} to {checkpoint.tree_size} leaves"
                )
            try:
                verify_consistency(
                    known.tree_size,
                    checkpoint.tree_size,
                    consistency_proof,
                    known.root_hash,
                    checkpoint.root_hash,
                )
            except ProofError as exc:
                raise ForkError(
                    f"the log of {checkpoint.tree_size} leaves does not extend the verified "
                    f"log of {known.tree_size} leaves: {exc}"
                ) from exc
        self.latest = checkpoint
        if self._state_file is not None:
            self._state_file.write_text(json.dumps({"note": checkpoint.note}))
        return checkpoint

    def verify_entry(self, entry: Any, inclusion_proof: Any) -> None:
        """Checks an AuditEntry (with leaf_value) and its InclusionProof against `latest`.

        The proof must be against the tree size of the last verified checkpoint.
        """
        known = self.latest
        if known is None:
            raise VerificationError("no verified checkpoint yet; call refresh() first")
        if inclusion_proof.tree_size != known.tree_size:
            raise ProofError(
                f"proof is against {inclusion_proof.tree_size} leaves, not {known.tree_size}"
            )
        if entry.leaf_value and leaf_hash(entry.leaf_value) != entry.leaf_hash:
            raise ProofError(f"entry {entry.index}: the leaf value does not match its hash")
        verify_inclusion(
            entry.leaf_hash,
            entry.index,
            known.tree_size,
            list(inclusion_proof.hashes),
            known.root_hash,
        )

    async def refresh(self, stub: Any) -> VerifiedCheckpoint:
        """Fetches the latest checkpoint through an asyncio AuditService stub and advances to it."""
        from centrum.audit.v1 import audit_service_pb2

        response = await stub.GetCheckpoint(audit_service_pb2.GetCheckpointRequest())
        checkpoint = self.verify_checkpoint(response.checkpoint.note)
        proof: list[bytes] = []
        known = self.latest
        if known is not None and 0 < known.tree_size < checkpoint.tree_size:
            consistency = await stub.GetConsistencyProof(
                audit_service_pb2.GetConsistencyProofRequest(
                    first_size=known.tree_size, second_size=checkpoint.tree_size
                )
            )
            proof = list(consistency.consistency_proof.hashes)
        return self.advance(checkpoint.note, proof)
