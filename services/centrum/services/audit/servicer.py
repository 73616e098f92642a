"""The AuditService servicer: requests in, domain calls on the log, responses out."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from google.protobuf import json_format, timestamp_pb2

from centrum.audit.v1 import audit_pb2, audit_service_pb2, audit_service_pb2_grpc
from centrum.interceptors.context import CredentialKind, Principal, current_principal
from centrum.interceptors.errors import (
    AlreadyExists,
    InvalidArgument,
    NotFound,
    OutOfRange,
    PermissionDenied,
    Unavailable,
)
from centrum.sdk.audit import verifier_key
from centrum.services.audit.export import ExportSink, FileSink, S3Exporter, StreamSink
from centrum.services.audit.filters import PageToken, filter_condition, filter_fingerprint
from centrum.services.audit.grouping import AppendGroups
from centrum.services.audit.log import (
    EventConflict,
    SqlAuditLog,
    StoredCheckpoint,
    StoredEntry,
)
from centrum.services.audit.settings import RELAY_SCOPE
from centrum.services.audit.signing import Checkpointer
from centrum.services.db import BackendUnavailable

__all__ = ["AuditServicer", "Wakeup", "checkpoint_message", "entry_message"]

_KINDS = {
    CredentialKind.JWT: audit_pb2.PRINCIPAL_KIND_USER,
    CredentialKind.API_KEY: audit_pb2.PRINCIPAL_KIND_API_KEY,
    CredentialKind.MTLS: audit_pb2.PRINCIPAL_KIND_SERVICE_ACCOUNT,
}
_DEFAULT_PAGE = 100
_TAIL_CHUNK = 500
_EXPORT_CHUNK = 1000
_STREAM_BYTES = 64 * 1024


class Wakeup:
    """Wakes waiting Tail streams when this process appended (other replicas are polled)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wakes every current waiter."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout_s: float) -> None:
        """Returns on the next notify, or after `timeout_s`."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._event.wait()


@contextlib.contextmanager
def _store() -> Iterator[None]:
    try:
        yield
    except BackendUnavailable as exc:
        raise Unavailable(
            "the audit store is unavailable; retry later",
            reason="AUDIT_STORE_UNAVAILABLE",
            retry_after_s=1.0,
        ) from exc


@contextlib.contextmanager
def _conflicts() -> Iterator[None]:
    try:
        yield
    except EventConflict as exc:
        raise AlreadyExists(
            str(exc),
            reason="EVENT_ID_CONFLICT",
            resource=("audit_entry", exc.event_id),
            info={"index": str(exc.index)},
        ) from exc


def _timestamp(ns: int) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(ns)
    return stamp


def checkpoint_message(origin: str, checkpoint: StoredCheckpoint) -> audit_pb2.Checkpoint:
    """The contract's Checkpoint of a stored one."""
    return audit_pb2.Checkpoint(
        origin=origin,
        tree_size=checkpoint.tree_size,
        root_hash=checkpoint.root_hash,
        timestamp=_timestamp(checkpoint.timestamp_ns),
        note=checkpoint.note,
        key_name=origin,
        key_id=checkpoint.key_id,
    )


def entry_message(entry: StoredEntry, *, leaf_value: bool) -> audit_pb2.AuditEntry:
    """The contract's AuditEntry of a stored one."""
    message = audit_pb2.AuditEntry(
        index=entry.index,
        leaf_hash=entry.leaf_hash,
        integrated_time=_timestamp(entry.integrated_ns),
        payload_pruned=entry.payload is None,
    )
    if entry.payload is not None:
        message.event.ParseFromString(entry.payload)
        if leaf_value:
            message.leaf_value = entry.payload
    return message


class AuditServicer(audit_service_pb2_grpc.AuditServiceServicer):
    """Appends, reads, proves and exports the log for callers of one tenant at a time."""

    def __init__(
        self,
        log: SqlAuditLog,
        checkpointer: Checkpointer,
        *,
        origin: str,
        max_batch_size: int,
        export_dir: Path,
        tail_poll_interval_s: float,
        wakeup: Wakeup,
        s3: S3Exporter | None = None,
        relay_tenant: str | None = None,
    ) -> None:
        """`s3` writes S3 exports; without it they are FAILED_PRECONDITION.

        Principals of `relay_tenant` (the operator tenant) holding the `audit.relay` scope may
        append events of any tenant: the Centrum processes that ship their chain's events here.
        """
        self._relay_tenant = relay_tenant
        self._log = log
        self._s3 = s3 if s3 is not None else S3Exporter(None)
        self._checkpointer = checkpointer
        self._groups = AppendGroups(log, checkpointer)
        self._origin = origin
        self._max_batch_size = max_batch_size
        self._export_dir = export_dir
        self._tail_poll_interval_s = tail_poll_interval_s
        self._wakeup = wakeup

    # -- appends -----------------------------------------------------------------------------

    def _may_relay(self, principal: Principal) -> bool:
        return principal.tenant == self._relay_tenant and principal.has_scope(RELAY_SCOPE)

    def _claim(self, event: audit_pb2.AuditEvent, principal: Principal) -> audit_pb2.AuditEvent:
        claimed = audit_pb2.AuditEvent()
        claimed.CopyFrom(event)
        if not claimed.actor.tenant:
            claimed.actor.tenant = principal.tenant
        elif claimed.actor.tenant != principal.tenant and not self._may_relay(principal):
            raise PermissionDenied(
                "events can only be appended to the caller's own tenant",
                reason="TENANT_MISMATCH",
            )
        claimed.ClearField("integrated_time")
        claimed.submitter.CopyFrom(
            audit_pb2.Principal(
                id=principal.subject,
                kind=_KINDS.get(principal.kind, audit_pb2.PRINCIPAL_KIND_UNSPECIFIED),
                tenant=principal.tenant,
            )
        )
        return claimed

    async def _append(self, events: list[audit_pb2.AuditEvent]) -> list[Any]:
        with _store(), _conflicts():
            return await self._log.append(events, strict=True)

    async def _consistency(self, known: int, checkpoint: StoredCheckpoint) -> Any:
        if not known or known > checkpoint.tree_size:
            return None
        with _store():
            hashes = await self._log.consistency_proof(known, checkpoint.tree_size)
        return audit_pb2.ConsistencyProof(
            first_size=known, second_size=checkpoint.tree_size, hashes=hashes
        )

    async def Append(
        self, request: audit_service_pb2.AppendRequest, context: Any
    ) -> audit_service_pb2.AppendResponse:
        """Appends one event and answers with a checkpoint and proof covering it (concurrent
        Appends are written in groups, see `grouping`)."""
        event = self._claim(request.event, current_principal())
        with _store(), _conflicts():
            placed = await self._groups.append(event)
        outcome, checkpoint = placed.outcome, placed.checkpoint
        response = audit_service_pb2.AppendResponse(
            index=outcome.index,
            leaf_hash=outcome.leaf_hash,
            integrated_time=_timestamp(outcome.integrated_ns),
            deduplicated=outcome.deduplicated,
            checkpoint=checkpoint_message(self._origin, checkpoint),
            inclusion_proof=audit_pb2.InclusionProof(
                leaf_index=outcome.index,
                tree_size=checkpoint.tree_size,
                hashes=placed.inclusion_proof,
            ),
        )
        consistency = await self._consistency(request.known_tree_size, checkpoint)
        if consistency is not None:
            response.consistency_proof.CopyFrom(consistency)
        return response

    async def AppendBatch(
        self, request: audit_service_pb2.AppendBatchRequest, context: Any
    ) -> audit_service_pb2.AppendBatchResponse:
        """Appends events atomically and answers with the checkpoint issued after them."""
        principal = current_principal()
        events = [self._claim(event, principal) for event in request.events]
        outcomes = await self._append(events)
        with _store():
            checkpoint = await self._checkpointer.issue()
        response = audit_service_pb2.AppendBatchResponse(
            checkpoint=checkpoint_message(self._origin, checkpoint)
        )
        for outcome in outcomes:
            result = response.results.add(
                index=outcome.index,
                leaf_hash=outcome.leaf_hash,
                integrated_time=_timestamp(outcome.integrated_ns),
                deduplicated=outcome.deduplicated,
            )
            if request.include_inclusion_proofs:
                with _store():
                    path = await self._log.inclusion_proof(outcome.index, checkpoint.tree_size)
                result.inclusion_proof.CopyFrom(
                    audit_pb2.InclusionProof(
                        leaf_index=outcome.index, tree_size=checkpoint.tree_size, hashes=path
                    )
                )
        consistency = await self._consistency(request.known_tree_size, checkpoint)
        if consistency is not None:
            response.consistency_proof.CopyFrom(consistency)
        return response

    # -- reads -------------------------------------------------------------------------------

    async def _own_entry(self, index: int, tenant: str) -> StoredEntry:
        with _store():
            entry = await self._log.entry(index)
        if entry is None or entry.tenant != tenant:
            raise NotFound(
                f"no audit entry {index} in this tenant",
                reason="AUDIT_ENTRY_NOT_FOUND",
                resource=("audit_entry", str(index)),
            )
        return entry

    async def _latest(self) -> StoredCheckpoint:
        with _store():
            latest = await self._log.latest_checkpoint()
            return latest if latest is not None else await self._checkpointer.issue()

    async def _proof_size(self, requested: int, index: int | None = None) -> StoredCheckpoint:
        """The checkpoint a proof is against: the latest, or the one issued at `requested`."""
        latest = await self._latest()
        size = requested or latest.tree_size
        if size > latest.tree_size:
            raise OutOfRange(
                f"tree size {size} is beyond the latest checkpoint ({latest.tree_size})",
                reason="TREE_SIZE_OUT_OF_RANGE",
            )
        if index is not None and index >= size:
            raise OutOfRange(
                f"entry {index} is not covered by a checkpoint yet; retry shortly",
                reason="NOT_YET_CHECKPOINTED",
            )
        if size == latest.tree_size:
            return latest
        with _store():
            exact = await self._log.checkpoint_at(size)
        return exact or StoredCheckpoint(size, b"", 0, b"", "")

    def _maybe_checkpoint(self, checkpoint: StoredCheckpoint) -> audit_pb2.Checkpoint | None:
        return checkpoint_message(self._origin, checkpoint) if checkpoint.note else None

    async def Query(
        self, request: audit_service_pb2.QueryRequest, context: Any
    ) -> audit_service_pb2.QueryResponse:
        """One page of the tenant's matching entries, newest first unless asked otherwise."""
        principal = current_principal()
        descending = request.order != audit_service_pb2.SORT_ORDER_ASCENDING
        fingerprint = filter_fingerprint(
            request.filter.SerializeToString(deterministic=True),
            str(descending).encode(),
            principal.tenant.encode(),
        )
        if request.page_token:
            try:
                token = PageToken.decode(request.page_token)
            except ValueError as exc:
                raise InvalidArgument(
                    "the page token is malformed", reason="INVALID_PAGE_TOKEN"
                ) from exc
            if token.fingerprint != fingerprint:
                raise InvalidArgument(
                    "the page token belongs to a query with other parameters",
                    reason="INVALID_PAGE_TOKEN",
                )
        else:
            with _store():
                size = (await self._log.head()).size
            token = PageToken(size, size if descending else -1, fingerprint)
        page = request.page_size or _DEFAULT_PAGE
        condition = filter_condition(principal.tenant, request.filter)
        with _store():
            if descending:
                rows = await self._log.entries(
                    condition, before=token.cursor, descending=True, limit=page + 1
                )
            else:
                rows = await self._log.entries(
                    condition, after=token.cursor, before=token.tree_size, limit=page + 1
                )
        response = audit_service_pb2.QueryResponse(
            entries=[entry_message(e, leaf_value=False) for e in rows[:page]]
        )
        if len(rows) > page:
            response.next_page_token = PageToken(
                token.tree_size, rows[page - 1].index, fingerprint
            ).encode()
        return response

    async def GetEntry(
        self, request: audit_service_pb2.GetEntryRequest, context: Any
    ) -> audit_service_pb2.GetEntryResponse:
        """One entry of the tenant, with its leaf value and inclusion proof on request."""
        entry = await self._own_entry(request.index, current_principal().tenant)
        response = audit_service_pb2.GetEntryResponse(
            entry=entry_message(entry, leaf_value=request.include_leaf_value)
        )
        if request.include_inclusion_proof:
            checkpoint = await self._proof_size(request.tree_size, request.index)
            with _store():
                path = await self._log.inclusion_proof(request.index, checkpoint.tree_size)
            response.inclusion_proof.CopyFrom(
                audit_pb2.InclusionProof(
                    leaf_index=request.index, tree_size=checkpoint.tree_size, hashes=path
                )
            )
            message = self._maybe_checkpoint(checkpoint)
            if message is not None:
                response.checkpoint.CopyFrom(message)
        return response

    async def GetCheckpoint(
        self, request: audit_service_pb2.GetCheckpointRequest, context: Any
    ) -> audit_service_pb2.GetCheckpointResponse:
        """The latest signed checkpoint."""
        latest = await self._latest()
        return audit_service_pb2.GetCheckpointResponse(
            checkpoint=checkpoint_message(self._origin, latest)
        )

    async def GetInclusionProof(
        self, request: audit_service_pb2.GetInclusionProofRequest, context: Any
    ) -> audit_service_pb2.GetInclusionProofResponse:
        """The audit path of one of the tenant's entries."""
        await self._own_entry(request.index, current_principal().tenant)
        checkpoint = await self._proof_size(request.tree_size, request.index)
        with _store():
            path = await self._log.inclusion_proof(request.index, checkpoint.tree_size)
        response = audit_service_pb2.GetInclusionProofResponse(
            inclusion_proof=audit_pb2.InclusionProof(
                leaf_index=request.index, tree_size=checkpoint.tree_size, hashes=path
            )
        )
        message = self._maybe_checkpoint(checkpoint)
        if message is not None:
            response.checkpoint.CopyFrom(message)
        return response

    async def GetConsistencyProof(
        self, request: audit_service_pb2.GetConsistencyProofRequest, context: Any
    ) -> audit_service_pb2.GetConsistencyProofResponse:
        """The proof that the tree of first_size leaves is a prefix of that of second_size."""
        checkpoint = await self._proof_size(request.second_size)
        if request.first_size > checkpoint.tree_size:
            raise InvalidArgument(
                "first_size is beyond second_size",
                reason="INVALID_REQUEST",
            )
        with _store():
            hashes = await self._log.consistency_proof(request.first_size, checkpoint.tree_size)
        response = audit_service_pb2.GetConsistencyProofResponse(
            consistency_proof=audit_pb2.ConsistencyProof(
                first_size=request.first_size, second_size=checkpoint.tree_size, hashes=hashes
            )
        )
        message = self._maybe_checkpoint(checkpoint)
        if message is not None:
            response.checkpoint.CopyFrom(message)
        return response

    async def GetLogInfo(
        self, request: audit_service_pb2.GetLogInfoRequest, context: Any
    ) -> audit_service_pb2.GetLogInfoResponse:
        """The log's origin, keys and encodings, for clients to pin."""
        with _store():
            active = (await self._checkpointer.signer()).key_id
            keys = await self._log.signing_keys()
        return audit_service_pb2.GetLogInfoResponse(
            origin=self._origin,
            public_keys=[
                self._public_key(k.key_name, k.key_id, k.public_key, k.create_ns, active)
                for k in keys
                if k.key_name == self._origin
            ],
            hash_algorithm=audit_pb2.HASH_ALGORITHM_SHA256,
            leaf_encoding=audit_pb2.LEAF_ENCODING_PROTOBUF_DETERMINISTIC,
            max_batch_size=self._max_batch_size,
        )

    @staticmethod
    def _public_key(
        name: str, key_id: bytes, public: bytes, create_ns: int, active: bytes
    ) -> audit_pb2.LogPublicKey:
        return audit_pb2.LogPublicKey(
            key_name=name,
            key_id=key_id,
            algorithm=audit_pb2.SIGNATURE_ALGORITHM_ED25519,
            public_key=public,
            verifier_key=verifier_key(name, public),
            active=key_id == active,
            create_time=_timestamp(create_ns),
        )

    # -- streams -----------------------------------------------------------------------------

    async def Tail(
        self, request: audit_service_pb2.TailRequest, context: Any
    ) -> AsyncIterator[audit_service_pb2.TailResponse]:
        """Streams the tenant's entries from an index on, then new ones as they arrive."""
        principal = current_principal()
        condition = filter_condition(principal.tenant, request.filter)
        with _store():
            head = await self._log.head()
            latest = await self._log.latest_checkpoint()
        next_index = head.size if request.from_end else request.start_index
        checkpoint_size = latest.tree_size if latest is not None else -1
        while True:
            with _store():
                size = (await self._log.head()).size
                checkpoints = (
                    await self._log.checkpoints(after_size=checkpoint_size)
                    if request.include_checkpoints
                    else []
                )
                rows = (
                    await self._log.entries(
                        condition, after=next_index - 1, before=size, limit=_TAIL_CHUNK
                    )
                    if next_index < size
                    else []
                )
            for entry in rows:
                next_index = entry.index + 1
                yield audit_service_pb2.TailResponse(
                    entry=entry_message(entry, leaf_value=False), next_index=next_index
                )
            if len(rows) < _TAIL_CHUNK:
                next_index = max(next_index, size)
            for checkpoint in checkpoints:
                checkpoint_size = checkpoint.tree_size
                yield audit_service_pb2.TailResponse(
                    checkpoint=checkpoint_message(self._origin, checkpoint),
                    next_index=next_index,
                )
            if len(rows) < _TAIL_CHUNK:
                await self._wakeup.wait(self._tail_poll_interval_s)

    async def _sink(self, request: audit_service_pb2.ExportRequest) -> ExportSink:
        """Where the export goes, after checking that it may be written there."""
        destination = request.destination
        if destination.HasField("s3"):
            s3 = destination.s3
            return await self._s3.open(
                s3.bucket, s3.key, overwrite=s3.overwrite, compress=request.gzip
            )
        if not destination.HasField("file"):
            return StreamSink(request.gzip)
        target = (self._export_dir / destination.file.path).resolve()
        if not target.is_relative_to(self._export_dir.resolve()):
            raise InvalidArgument(
                "the export path escapes the export directory", reason="INVALID_EXPORT_PATH"
            )
        if target.exists() and not destination.file.overwrite:
            raise AlreadyExists(
                f"{destination.file.path} exists; set overwrite to replace it",
                reason="EXPORT_EXISTS",
                resource=("audit_export", destination.file.path),
            )
        return FileSink(target, request.gzip)

    async def Export(
        self, request: audit_service_pb2.ExportRequest, context: Any
    ) -> AsyncIterator[audit_service_pb2.ExportResponse]:
        """Writes a range of the tenant's entries with proofs as JSON Lines.

        The output opens with a header (origin, public keys, the signed checkpoint every proof
        is against), has one line per entry with its leaf value and inclusion proof, and ends
        with a trailer, so an auditor verifies it offline with the log's public key alone.
        """
        principal = current_principal()
        checkpoint = await self._latest()
        end = request.end_index or checkpoint.tree_size
        if end > checkpoint.tree_size:
            raise OutOfRange(
                f"end_index {end} is beyond the latest checkpoint ({checkpoint.tree_size})",
                reason="TREE_SIZE_OUT_OF_RANGE",
            )
        sink = await self._sink(request)
        streamed = isinstance(sink, StreamSink)
        with _store():
            keys = await self._log.signing_keys()
        header = audit_pb2.ExportHeader(
            origin=self._origin,
            public_keys=[
                self._public_key(k.key_name, k.key_id, k.public_key, k.create_ns, b"")
                for k in keys
                if k.key_name == self._origin
            ],
            hash_algorithm=audit_pb2.HASH_ALGORITHM_SHA256,
            leaf_encoding=audit_pb2.LEAF_ENCODING_PROTOBUF_DETERMINISTIC,
            checkpoint=checkpoint_message(self._origin, checkpoint),
            start_index=request.start_index,
            end_index=end,
            filter=request.filter,
            create_time=_timestamp(time.time_ns()),
        )
        condition = filter_condition(principal.tenant, request.filter)
        digest = hashlib.sha256()
        counts = {"entries": 0, "pruned": 0, "bytes": 0}
        try:
            pending = _line(audit_pb2.ExportRecord(header=header))
            after = request.start_index - 1
            while True:
                with _store():
                    rows = await self._log.entries(
                        condition, after=after, before=end, limit=_EXPORT_CHUNK
                    )
                for entry in rows:
                    with _store():
                        path = await self._log.inclusion_proof(entry.index, checkpoint.tree_size)
                    record = audit_pb2.ExportRecord(
                        entry=audit_pb2.ExportedEntry(
                            entry=entry_message(entry, leaf_value=True),
                            inclusion_proof=audit_pb2.InclusionProof(
                                leaf_index=entry.index, tree_size=checkpoint.tree_size, hashes=path
                            ),
                        )
                    )
                    pending += _line(record)
                    counts["entries"] += 1
                    counts["pruned"] += entry.payload is None
                    if len(pending) >= _STREAM_BYTES:
                        chunk = await sink.write(pending)
                        digest.update(chunk)
                        counts["bytes"] += len(chunk)
                        pending = b""
                        if streamed:
                            yield audit_service_pb2.ExportResponse(chunk=chunk)
                if not streamed and rows:
                    yield audit_service_pb2.ExportResponse(
                        progress=audit_service_pb2.ExportProgress(
                            entries_written=counts["entries"],
                            bytes_written=counts["bytes"],
                            next_index=rows[-1].index + 1,
                            end_index=end,
                        )
                    )
                if len(rows) < _EXPORT_CHUNK:
                    break
                after = rows[-1].index
            pending += _line(
                audit_pb2.ExportRecord(
                    trailer=audit_pb2.ExportTrailer(
                        entry_count=counts["entries"], pruned_count=counts["pruned"]
                    )
                )
            )
            chunk = await sink.write(pending) + await sink.finish()
            digest.update(chunk)
            counts["bytes"] += len(chunk)
            if streamed and chunk:
                yield audit_service_pb2.ExportResponse(chunk=chunk)
            await sink.commit()
        finally:
            await sink.abort()
        yield audit_service_pb2.ExportResponse(
            summary=audit_service_pb2.ExportSummary(
                uri=sink.uri,
                start_index=request.start_index,
                end_index=end,
                entry_count=counts["entries"],
                pruned_count=counts["pruned"],
                bytes_written=counts["bytes"],
                sha256=digest.digest(),
                checkpoint=checkpoint_message(self._origin, checkpoint),
                complete_time=_timestamp(time.time_ns()),
            )
        )


def _line(record: audit_pb2.ExportRecord) -> bytes:
    """One JSON Lines record in the proto3 JSON mapping."""
    return (
        json.dumps(json_format.MessageToDict(record), separators=(",", ":"), sort_keys=True) + "\n"
    ).encode()
