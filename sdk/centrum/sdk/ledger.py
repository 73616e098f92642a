"""Audited financial transactions: `audit_transaction` appends one and proves it is in the log.

    from centrum.sdk.ledger import audit_transaction, pin_log_verifier

    with sdk.connect(target, client_credentials=credentials) as client:
        verifier = pin_log_verifier(client, state_file=Path("audit-state.json"))
        receipt = audit_transaction(
            client,
            transaction_id="o-42",
            amount=Decimal("19.90"),
            currency="EUR",
            debit_account="customer:ada",
            credit_account="revenue:shop",
            reference="Order o-42",
            verifier=verifier,
        )
        receipt.index, receipt.checkpoint.tree_size          # where it is, and the proof's tree

The event (category `financial`) carries the transaction in AuditEvent.financial, with the
amount as an exact decimal string. Its event_id is derived from the action and the transaction
id, so calling again for the same transaction is answered with the entry already logged instead
of a second one. With `verify=True` the helper waits for a signed checkpoint covering the event,
checks that checkpoint against the verifier (its signature, and that it extends the last one the
verifier accepted), fetches the entry with its inclusion proof and checks both, and checks that
the logged leaf is the transaction that was sent; any failure raises `VerificationError`.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, TypeVar, Unpack

from google.protobuf import message

from centrum.audit.v1 import audit_pb2
from centrum.audit.v1 import audit_service_pb2 as pb
from centrum.sdk._inputs import invalid, plain_struct, timestamp
from centrum.sdk.audit import LogVerifier, VerificationError, VerifiedCheckpoint
from centrum.sdk.errors import FieldViolation

if TYPE_CHECKING:
    from centrum.sdk._client import Client
    from centrum.sdk.aio import AsyncClient

__all__ = [
    "Transaction",
    "TransactionReceipt",
    "audit_transaction",
    "audit_transaction_async",
    "pin_log_verifier",
    "pin_log_verifier_async",
    "transaction_event",
]

_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_TAXONOMY = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
_EVENT_IDS = uuid.UUID("6f0b7c55-1d0e-4a5e-9a59-0f8e3f5c2a10")
_T = TypeVar("_T")

# A step of a plan: the AuditService method to call and its request; the plan is sent the
# response. One plan serves the sync and the asyncio client.
_Call = tuple[str, message.Message]
_Plan = Generator[_Call, Any, _T]


@dataclass(frozen=True)
class TransactionReceipt:
    """Where an audited transaction is in the log, and the checkpoint that proves it."""

    event_id: str
    transaction_id: str
    index: int
    """The entry's index (leaf index) in the log."""
    leaf_hash: bytes
    integrated_time: dt.datetime
    deduplicated: bool
    """True when the transaction was already logged and this call appended nothing."""
    checkpoint: VerifiedCheckpoint | None
    """The verified checkpoint the entry's inclusion proof checked against; None unverified."""

    @property
    def verified(self) -> bool:
        """Whether the entry's inclusion in a verified checkpoint was checked."""
        return self.checkpoint is not None


def _amount(value: Decimal | str | int) -> tuple[str | None, FieldViolation | None]:
    if isinstance(value, bool | float) or not isinstance(value, Decimal | str | int):
        kind = type(value).__name__
        return None, FieldViolation("amount", f"must be a Decimal or a decimal string, not {kind}")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        return None, FieldViolation("amount", f"{value!r} is not a decimal number like 19.90")
    if not number.is_finite() or number.is_zero():
        return None, FieldViolation("amount", "must be a finite, non-zero decimal")
    return format(number, "f"), None


class Transaction(TypedDict):
    """The arguments of `audit_transaction`: one financial transaction and how it is logged."""

    transaction_id: str
    """The transaction's id in the writer's system."""
    amount: Decimal | str | int
    """Exact (a Decimal, a decimal string or an int; floats are refused), non-zero, negative
    for reversals."""
    currency: str
    """An ISO 4217 code such as EUR (upper-cased)."""
    debit_account: str
    """The account the amount is taken from."""
    credit_account: str
    """The account the amount is credited to."""
    reference: NotRequired[str]
    """The free-form purpose (e.g. "Order o-42")."""
    metadata: NotRequired[Mapping[str, Any] | None]
    """Goes to the event's details: personal data allowed, never secrets."""
    action: NotRequired[str]
    """What happened, lower-case and dot-separated; default "transaction"."""
    outcome: NotRequired[audit_pb2.AuditOutcome]
    """Default AUDIT_OUTCOME_SUCCESS."""
    correlation_id: NotRequired[str]
    """Groups the event with others of one workflow (e.g. the order id)."""
    event_time: NotRequired[dt.datetime | None]
    """When it happened by the writer's clock (aware); unset by default, which keeps a repeated
    call identical to the first."""
    event_id: NotRequired[str | None]
    """Default: derived from `action` and `transaction_id`, so a repeat is deduplicated."""


def transaction_event(**transaction: Unpack[Transaction]) -> audit_pb2.AuditEvent:
    """The AuditEvent `audit_transaction` appends; raises `InvalidInput` for bad arguments."""
    transaction_id, amount = transaction["transaction_id"], transaction["amount"]
    currency = transaction["currency"]
    debit_account, credit_account = transaction["debit_account"], transaction["credit_account"]
    action = transaction.get("action", "transaction")
    outcome = transaction.get("outcome", audit_pb2.AUDIT_OUTCOME_SUCCESS)
    correlation_id = transaction.get("correlation_id", "")
    event_id = transaction.get("event_id")
    violations: list[FieldViolation] = []
    if not transaction_id.strip():
        violations.append(FieldViolation("transaction_id", "must not be empty"))
    text, problem = _amount(amount)
    if problem is not None:
        violations.append(problem)
    if not _CURRENCY.match(currency):
        violations.append(
            FieldViolation("currency", f"{currency!r} is not an ISO 4217 code like EUR")
        )
    for field, account in (("debit_account", debit_account), ("credit_account", credit_account)):
        if not account.strip():
            violations.append(FieldViolation(field, "must not be empty"))
    if debit_account and debit_account == credit_account:
        violations.append(FieldViolation("credit_account", "must differ from debit_account"))
    if not _TAXONOMY.match(action) or len(action) > 128:
        violations.append(
            FieldViolation("action", "lower-case, dot-separated, at most 128 characters")
        )
    if outcome == audit_pb2.AUDIT_OUTCOME_UNSPECIFIED:
        violations.append(FieldViolation("outcome", "must be set"))
    if event_id is not None and not 0 < len(event_id) <= 64:
        violations.append(FieldViolation("event_id", "1 to 64 characters"))
    if len(correlation_id) > 128:
        violations.append(FieldViolation("correlation_id", "at most 128 characters"))
    if violations:
        raise invalid(violations)
    event = audit_pb2.AuditEvent(
        event_id=event_id or str(uuid.uuid5(_EVENT_IDS, f"{action}\n{transaction_id}")),
        category="financial",
        action=action,
        outcome=outcome,
        resource=audit_pb2.Resource(type="transaction", id=transaction_id),
        correlation=audit_pb2.Correlation(correlation_id=correlation_id),
        financial=audit_pb2.Financial(
            transaction_id=transaction_id,
            amount=text or "",
            currency=currency.upper(),
            from_account=debit_account,
            to_account=credit_account,
            reason=transaction.get("reference", ""),
        ),
    )
    metadata = transaction.get("metadata")
    if metadata:
        event.details.CopyFrom(plain_struct("metadata", metadata))
    event_time = transaction.get("event_time")
    if event_time is not None:
        event.event_time.CopyFrom(timestamp("event_time", event_time))
    return event


def _pin(info: pb.GetLogInfoResponse, state_file: Path | None) -> LogVerifier:
    return LogVerifier(info.origin, [key.verifier_key for key in info.public_keys], state_file)


def _advance(
    verifier: LogVerifier, checkpoint: audit_pb2.Checkpoint, proof: audit_pb2.ConsistencyProof
) -> _Plan[VerifiedCheckpoint]:
    """Verifies `checkpoint` and moves the verifier to it (or keeps a larger one it holds)."""
    known = verifier.latest
    if known is not None and known.tree_size > checkpoint.tree_size:
        verifier.verify_checkpoint(checkpoint.note)
        return known
    hashes: Sequence[bytes] = list(proof.hashes)
    known_size = known.tree_size if known is not None else 0
    # The proof answers the size known at append time; a verifier shared with other callers
    # may have moved since, and then needs a proof from where it is now.
    stale = (proof.first_size, proof.second_size) != (known_size, checkpoint.tree_size)
    if 0 < known_size < checkpoint.tree_size and stale:
        fetched: pb.GetConsistencyProofResponse = yield (
            "GetConsistencyProof",
            pb.GetConsistencyProofRequest(first_size=known_size, second_size=checkpoint.tree_size),
        )
        hashes = list(fetched.consistency_proof.hashes)
    return verifier.advance(checkpoint.note, hashes)


def _check_leaf(
    entry: audit_pb2.AuditEntry, appended: pb.AppendResponse, sent: audit_pb2.AuditEvent
) -> None:
    if entry.index != appended.index or entry.leaf_hash != appended.leaf_hash:
        raise VerificationError(
            f"entry {entry.index} is not the leaf the append returned ({appended.index})"
        )
    logged = audit_pb2.AuditEvent.FromString(entry.leaf_value)
    if (logged.event_id, logged.category, logged.action) != (
        sent.event_id,
        sent.category,
        sent.action,
    ) or logged.financial != sent.financial:
        raise VerificationError(
            f"entry {entry.index} does not hold transaction {sent.financial.transaction_id!r}"
        )


def _append(
    event: audit_pb2.AuditEvent, verify: bool, verifier: LogVerifier | None
) -> _Plan[TransactionReceipt]:
    known = verifier.latest.tree_size if verifier is not None and verifier.latest else 0
    appended: pb.AppendResponse = yield (
        "Append",
        pb.AppendRequest(event=event, wait_for_checkpoint=verify, known_tree_size=known),
    )
    checkpoint: VerifiedCheckpoint | None = None
    if verify:
        if verifier is None:
            info: pb.GetLogInfoResponse = yield ("GetLogInfo", pb.GetLogInfoRequest())
            verifier = _pin(info, None)
        checkpoint = yield from _advance(verifier, appended.checkpoint, appended.consistency_proof)
        fetched: pb.GetEntryResponse = yield (
            "GetEntry",
            pb.GetEntryRequest(
                index=appended.index,
                include_leaf_value=True,
                include_inclusion_proof=True,
                tree_size=checkpoint.tree_size,
            ),
        )
        verifier.verify_entry(fetched.entry, fetched.inclusion_proof)
        _check_leaf(fetched.entry, appended, event)
    return TransactionReceipt(
        event_id=event.event_id,
        transaction_id=event.financial.transaction_id,
        index=appended.index,
        leaf_hash=appended.leaf_hash,
        integrated_time=appended.integrated_time.ToDatetime(dt.UTC),
        deduplicated=appended.deduplicated,
        checkpoint=checkpoint,
    )


def _run(plan: _Plan[_T], call: Callable[[str, message.Message], Any]) -> _T:
    try:
        step = next(plan)
        while True:
            step = plan.send(call(*step))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def _run_async(plan: _Plan[_T], call: Callable[[str, message.Message], Awaitable[Any]]) -> _T:
    try:
        step = next(plan)
        while True:
            step = plan.send(await call(*step))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def audit_transaction(
    client: Client,
    *,
    verify: bool = True,
    verifier: LogVerifier | None = None,
    **transaction: Unpack[Transaction],
) -> TransactionReceipt:
    """Appends a financial transaction (see `Transaction`) to the audit log; returns its receipt.

    Bad arguments raise `InvalidInput` before any call. With `verify` (the default) the receipt
    is only returned once the entry is proven to be in a signed checkpoint that `verifier`
    accepts; pass the same verifier (see `pin_log_verifier`) to every call, so each checkpoint
    must also extend the one before. Without a verifier the log's keys are trusted on first use
    for this call only. Needs the `audit.write` scope, and `audit.read` to verify.
    """
    plan = _append(transaction_event(**transaction), verify, verifier)
    stub = client.audit
    return _run(plan, lambda method, request: getattr(stub, method)(request))


async def audit_transaction_async(
    client: AsyncClient,
    *,
    verify: bool = True,
    verifier: LogVerifier | None = None,
    **transaction: Unpack[Transaction],
) -> TransactionReceipt:
    """`audit_transaction` for a `centrum.sdk.aio.AsyncClient`."""
    plan = _append(transaction_event(**transaction), verify, verifier)
    stub = client.audit
    return await _run_async(plan, lambda method, request: getattr(stub, method)(request))


def pin_log_verifier(client: Client, *, state_file: Path | None = None) -> LogVerifier:
    """A LogVerifier for the server's log, trusting the keys GetLogInfo names now.

    Pinning on first use trusts the server once; configure the origin and verifier keys instead
    where that matters. With `state_file` the last verified checkpoint is kept across runs, so a
    log that was rolled back or rewritten since is detected.
    """
    info: pb.GetLogInfoResponse = client.audit.GetLogInfo(pb.GetLogInfoRequest())
    return _pin(info, state_file)


async def pin_log_verifier_async(
    client: AsyncClient, *, state_file: Path | None = None
) -> LogVerifier:
    """`pin_log_verifier` for a `centrum.sdk.aio.AsyncClient`."""
    info: pb.GetLogInfoResponse = await client.audit.GetLogInfo(pb.GetLogInfoRequest())
    return _pin(info, state_file)
