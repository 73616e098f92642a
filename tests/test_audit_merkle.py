"""The audit log's Merkle tree against an independent RFC 6962 computation written here.

The reference below follows RFC 6962 section 2.1 literally (recursive MTH, PATH and SUBPROOF over
the leaf values); the store answers from its stored subtree hashes and compact range instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from centrum.audit.v1 import audit_pb2
from centrum.sdk import audit as sdk_audit
from centrum.services.audit import merkle
from centrum.services.audit.log import SqlAuditLog
from centrum.services.db import create_engine, migrate


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 MTH over leaf values."""
    if not leaves:
        return _h(b"")
    if len(leaves) == 1:
        return _h(b"\x00" + leaves[0])
    k = _split(len(leaves))
    return _h(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:]))


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 PATH(m, D[n])."""
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    """RFC 6962 SUBPROOF(m, D[n], b)."""
    n = len(leaves)
    if m == n:
        return [] if complete else [ref_mth(leaves)]
    k = _split(n)
    if m <= k:
        return [*ref_subproof(m, leaves[:k], complete), ref_mth(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), ref_mth(leaves[:k])]


def ref_proof(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 PROOF(m, D[n])."""
    return [] if m in (0, len(leaves)) else ref_subproof(m, leaves, True)


def _event(i: int) -> audit_pb2.AuditEvent:
    event = audit_pb2.AuditEvent(
        event_id=f"e-{i}", category="test", action="merkle", outcome=audit_pb2.AUDIT_OUTCOME_SUCCESS
    )
    event.actor.tenant = "acme"
    return event


@pytest.fixture
async def log_with_values(tmp_path: Path) -> AsyncIterator[tuple[SqlAuditLog, list[bytes]]]:
    """A SQLite log of 70 leaves appended in uneven batches, and its leaf values."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'merkle.db'}"
    migrate(url)
    engine = create_engine(url)
    log = SqlAuditLog(engine)
    count = 0
    for size in (1, 2, 3, 17, 47):
        await log.append([_event(count + i) for i in range(size)])
        count += size
    values = [e.payload for e in await log.entries(sa.true(), limit=1000)]
    assert all(v is not None for v in values)
    yield log, [v for v in values if v is not None]
    await engine.dispose()


async def test_roots_match_rfc6962(log_with_values: tuple[SqlAuditLog, list[bytes]]) -> None:
    """The head root and the root at every earlier size equal the reference MTH."""
    log, values = log_with_values
    assert (await log.head()).root == ref_mth(values)
    for size in range(len(values) + 1):
        assert await log.root_at(size) == ref_mth(values[:size]), size


async def test_inclusion_proofs_match_rfc6962(
    log_with_values: tuple[SqlAuditLog, list[bytes]],
) -> None:
    """Every inclusion proof at several tree sizes equals PATH and verifies in the SDK."""
    log, values = log_with_values
    for size in (1, 2, 3, 5, 16, 17, 31, 32, 33, 64, 70):
        root = ref_mth(values[:size])
        for index in range(size):
            proof = await log.inclusion_proof(index, size)
            assert proof == ref_path(index, values[:size]), (index, size)
            sdk_audit.verify_inclusion(sdk_audit.leaf_hash(values[index]), index, size, proof, root)


async def test_consistency_proofs_match_rfc6962(
    log_with_values: tuple[SqlAuditLog, list[bytes]],
) -> None:
    """Consistency proofs between many size pairs equal PROOF and verify in the SDK."""
    log, values = log_with_values
    for second in (1, 2, 7, 8, 16, 17, 33, 64, 70):
        for first in range(second + 1):
            proof = await log.consistency_proof(first, second)
            assert proof == ref_proof(first, values[:second]), (first, second)
            sdk_audit.verify_consistency(
                first, second, proof, ref_mth(values[:first]), ref_mth(values[:second])
            )


async def test_proofs_through_cached_upper_subtrees_match_rfc6962(tmp_path: Path) -> None:
    """Past 256 leaves proofs reuse the cached upper subtrees; asked again (from the cache),
    at sizes inside and past those subtrees, they still equal PATH and PROOF."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'upper.db'}"
    migrate(url)
    engine = create_engine(url)
    log = SqlAuditLog(engine)
    for start in range(0, 1100, 275):
        await log.append([_event(start + i) for i in range(275)])
    values = [e.payload for e in await log.entries(sa.true(), limit=2000)]
    assert len(values) == 1100 and all(v is not None for v in values)
    leaves = [v for v in values if v is not None]
    cases = [(0, 1100), (255, 256), (256, 1024), (700, 1025), (1099, 1100), (513, 768)]
    for _ in range(2):
        for index, size in cases:
            assert await log.inclusion_proof(index, size) == ref_path(index, leaves[:size])
        for first, second in ((256, 1100), (300, 1024), (1024, 1100), (1, 513)):
            assert await log.consistency_proof(first, second) == ref_proof(first, leaves[:second])
    assert await log.root_at(1100) == ref_mth(leaves) == (await log.head()).root
    await engine.dispose()


def test_sdk_rejects_altered_proofs() -> None:
    """A flipped hash, a wrong index or a truncated proof fails verification."""
    values = [bytes([i]) for i in range(13)]
    root = ref_mth(values)
    proof = ref_path(5, values)
    leaf = sdk_audit.leaf_hash(values[5])
    sdk_audit.verify_inclusion(leaf, 5, 13, proof, root)
    bad = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
    for args in ((leaf, 5, 13, bad), (leaf, 6, 13, proof), (leaf, 5, 13, proof[:-1])):
        with pytest.raises(sdk_audit.ProofError):
            sdk_audit.verify_inclusion(*args, root)
    consistency = ref_proof(6, values)
    sdk_audit.verify_consistency(6, 13, consistency, ref_mth(values[:6]), root)
    with pytest.raises(sdk_audit.ProofError):
        sdk_audit.verify_consistency(6, 13, consistency, ref_mth(values[:5]), root)
    with pytest.raises(sdk_audit.ProofError):
        sdk_audit.verify_consistency(6, 13, consistency[:-1], ref_mth(values[:6]), root)


def test_compact_range_emits_each_stored_node_once() -> None:
    """Appending 4096 leaves emits exactly the complete subtrees at levels 4, 8 and 12."""
    compact = merkle.CompactRange()
    emitted: list[tuple[int, int]] = []
    compact.extend(
        (_h(bytes([i % 256, i // 256])) for i in range(4096)),
        lambda level, index, _hash: emitted.append((level, index)),
    )
    assert sorted(emitted) == sorted(
        [(4, i) for i in range(256)] + [(8, i) for i in range(16)] + [(12, 0)]
    )
    assert merkle.CompactRange.decode(4096, compact.encode()).root() == compact.root()


def test_pure_python_ed25519_agrees_with_cryptography() -> None:
    """The SDK's dependency-free Ed25519 verifier accepts good and rejects bad signatures."""
    key = ed25519.Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    for message in (b"", b"checkpoint\n1\n", bytes(range(200))):
        signature = key.sign(message)
        assert sdk_audit._pure_ed25519_verify(public, message, signature)
        assert not sdk_audit._pure_ed25519_verify(public, message + b"x", signature)
        tampered = signature[:10] + bytes([signature[10] ^ 1]) + signature[11:]
        assert not sdk_audit._pure_ed25519_verify(public, message, tampered)
