"""FlagService through the whole chain on the embedded backends: CRUD, CAS, evaluation, watch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2
from sqlalchemy.engine import make_url
from test_flags_evaluation import bool_flag, condition, rollout, targeting

from centrum.audit.v1 import audit_pb2
from centrum.config.v1 import flag_service_pb2 as pb
from centrum.config.v1 import flag_service_pb2_grpc as pb_grpc
from centrum.sdk import aio
from centrum.sdk.errors import CentrumError
from centrum.sdk.flags import EvaluationContext, FlagClient
from centrum.server import CentrumApp
from harness._postgres import create_database, drop_database, new_database_name, sqlalchemy_url
from harness.centrum import StartCentrum, bearer, channel
from harness.echo_client import detail
from harness.tokens import TokenMint

ENV = "production"
SCOPES = ("flags.read", "flags.write")


def connect(app: CentrumApp, token_mint: TokenMint, tenant: str = "acme") -> aio.AsyncClient:
    """An SDK client of `tenant` allowed to read and write flags."""
    return aio.connect(
        f"127.0.0.1:{app.port}", token=token_mint.token(tenant=tenant, scopes=SCOPES)
    )


@pytest.fixture
async def client(centrum: CentrumApp, token_mint: TokenMint) -> AsyncIterator[aio.AsyncClient]:
    """An SDK client of tenant acme on an embedded-backend server."""
    async with connect(centrum, token_mint) as sdk_client:
        yield sdk_client


async def put(client: aio.AsyncClient, flag: pb.Flag, **options: object) -> pb.Flag:
    """SetFlag; returns the stored flag."""
    request = pb.SetFlagRequest(environment=ENV, key=flag.key, flag=flag, **options)  # type: ignore[arg-type]
    stored: pb.Flag = (await client.flags.SetFlag(request)).flag
    return stored


@pytest.fixture
def watch_auth(token_mint: TokenMint) -> tuple[tuple[str, str], ...]:
    """Call metadata of tenant acme for WatchFlags.

    The SDK's aio channel interceptor only reaches unary-unary calls (grpc.aio files an
    interceptor under its first matching kind), so streams carry the token explicitly.
    """
    return bearer(token_mint.token(scopes=SCOPES))


async def rpc_error(call: object) -> CentrumError:
    """The error an awaited unary call ends with, as the SDK reports it."""
    with pytest.raises(CentrumError) as failure:
        await call  # type: ignore[misc]
    return failure.value


async def test_set_get_list_delete(client: aio.AsyncClient) -> None:
    """Writes version flags and number revisions; reads, pages and deletes them."""
    first = await put(client, bool_flag("a.one"))
    assert (first.version, first.revision, first.updated_by) == (1, 1, "svc-test")
    second = await put(client, bool_flag("a.one", enabled=False))
    assert (second.version, second.revision) == (2, 2)
    assert second.create_time == first.create_time
    for key in ("a.two", "a.three", "b.one"):
        await put(client, bool_flag(key))
    got = await client.flags.GetFlag(pb.GetFlagRequest(environment=ENV, key="a.one"))
    assert got.flag == second
    keys, token = [], ""
    while True:
        page = await client.flags.ListFlags(
            pb.ListFlagsRequest(environment=ENV, prefix="a.", page_size=2, page_token=token)
        )
        keys += [f.key for f in page.flags]
        token = page.next_page_token
        if not token:
            break
    assert keys == ["a.one", "a.three", "a.two"]
    assert page.revision == 5
    deleted = await client.flags.DeleteFlag(pb.DeleteFlagRequest(environment=ENV, key="a.one"))
    assert deleted.revision == 6
    error = await rpc_error(client.flags.GetFlag(pb.GetFlagRequest(environment=ENV, key="a.one")))
    assert error.status == grpc.StatusCode.NOT_FOUND
    error = await rpc_error(
        client.flags.DeleteFlag(pb.DeleteFlagRequest(environment=ENV, key="a.one"))
    )
    assert error.status == grpc.StatusCode.NOT_FOUND
    allowed = await client.flags.DeleteFlag(
        pb.DeleteFlagRequest(environment=ENV, key="a.one", allow_missing=True)
    )
    assert allowed.revision == 0
    error = await rpc_error(
        client.flags.ListFlags(pb.ListFlagsRequest(environment=ENV, page_token="bogus"))
    )
    assert error.status == grpc.StatusCode.INVALID_ARGUMENT


async def test_compare_and_set(client: aio.AsyncClient) -> None:
    """A stale expected_version is ABORTED naming the current version; create_only: EXISTS."""
    await put(client, bool_flag("cas"))
    await put(client, bool_flag("cas"), expected_version=1)
    error = await rpc_error(put(client, bool_flag("cas"), expected_version=1))
    assert error.status == grpc.StatusCode.ABORTED
    assert (error.reason, error.metadata["current_version"]) == ("VERSION_MISMATCH", "2")
    error = await rpc_error(put(client, bool_flag("cas"), create_only=True))
    assert error.status == grpc.StatusCode.ALREADY_EXISTS
    error = await rpc_error(
        client.flags.DeleteFlag(
            pb.DeleteFlagRequest(environment=ENV, key="cas", expected_version=1)
        )
    )
    assert error.status == grpc.StatusCode.ABORTED


async def test_concurrent_writers_with_the_same_version_one_wins(client: aio.AsyncClient) -> None:
    """Of several writers racing with the same expected_version exactly one succeeds."""
    await put(client, bool_flag("race"))
    outcomes = await asyncio.gather(
        *(put(client, bool_flag("race", enabled=i % 2 == 0), expected_version=1) for i in range(6)),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if isinstance(o, pb.Flag)]
    losers = [o for o in outcomes if isinstance(o, CentrumError)]
    assert len(winners) == 1 and winners[0].version == 2
    assert len(losers) == 5 and {e.status for e in losers} == {grpc.StatusCode.ABORTED}


async def test_invalid_definitions_list_every_problem(client: aio.AsyncClient) -> None:
    """A broken definition is INVALID_ARGUMENT with one field violation per problem."""
    flag = bool_flag(
        "bad", rules=[targeting(condition("age", "GREATER_THAN", "x"), variant="nope")]
    )
    flag.default_variant = "missing"
    overweight = rollout(60_000)
    overweight.variants[1].weight = 50_000
    flag.rules.append(pb.TargetingRule(rollout=overweight))
    flag.rules.append(
        pb.TargetingRule(conditions=[condition("v", "SEMVER_EQUALS", "1.x")], variant="on")
    )
    error = await rpc_error(put(client, flag, expected_version=1, create_only=True))
    assert error.status == grpc.StatusCode.INVALID_ARGUMENT
    fields = {v.field for v in error.field_violations}
    assert fields == {
        "create_only",
        "flag.default_variant",
        "flag.rules[0].conditions[0].values",
        "flag.rules[0].variant",
        "flag.rules[1].rollout.variants",
        "flag.rules[2].conditions[0].values",
    }
    error = await rpc_error(client.flags.GetFlag(pb.GetFlagRequest(environment="bad env", key="")))
    assert {v.field for v in error.field_violations} == {
        "environment",
        "key",
    }


async def test_segments_crud_and_references(client: aio.AsyncClient) -> None:
    """Segments are versioned; a flag cannot name a missing one; a used one cannot be deleted."""
    segment = pb.Segment(conditions=[condition("email", "ENDS_WITH", "@acme.io")])
    uses = bool_flag("staff-only", rules=[targeting(condition("", "IN_SEGMENT", "staff"))])
    error = await rpc_error(put(client, uses))
    assert error.status == grpc.StatusCode.FAILED_PRECONDITION
    assert error.reason == "SEGMENT_NOT_FOUND"
    stored = (
        await client.flags.SetSegment(
            pb.SetSegmentRequest(environment=ENV, key="staff", segment=segment)
        )
    ).segment
    assert (stored.key, stored.version) == ("staff", 1)
    await put(client, uses)
    nested = pb.Segment(conditions=[condition("", "IN_SEGMENT", "staff")])
    error = await rpc_error(
        client.flags.SetSegment(pb.SetSegmentRequest(environment=ENV, key="n", segment=nested))
    )
    assert error.status == grpc.StatusCode.INVALID_ARGUMENT
    listed = await client.flags.ListSegments(pb.ListSegmentsRequest(environment=ENV))
    assert [s.key for s in listed.segments] == ["staff"]
    got = await client.flags.GetSegment(pb.GetSegmentRequest(environment=ENV, key="staff"))
    assert got.segment == stored
    error = await rpc_error(
        client.flags.DeleteSegment(pb.DeleteSegmentRequest(environment=ENV, key="staff"))
    )
    assert error.status == grpc.StatusCode.FAILED_PRECONDITION
    assert error.metadata["flags"] == "staff-only"
    error = await rpc_error(
        client.flags.SetSegment(
            pb.SetSegmentRequest(environment=ENV, key="staff", segment=segment, expected_version=7)
        )
    )
    assert error.status == grpc.StatusCode.ABORTED
    await client.flags.DeleteFlag(pb.DeleteFlagRequest(environment=ENV, key="staff-only"))
    await client.flags.DeleteSegment(pb.DeleteSegmentRequest(environment=ENV, key="staff"))
    error = await rpc_error(
        client.flags.GetSegment(pb.GetSegmentRequest(environment=ENV, key="staff"))
    )
    assert error.status == grpc.StatusCode.NOT_FOUND


async def test_evaluate_reports_every_reason(client: aio.AsyncClient) -> None:
    """EvaluateFlag returns value, variant and reason; errors are results, not status codes."""
    await put(client, bool_flag("static"))
    await put(client, bool_flag("off", enabled=False))
    await put(
        client,
        bool_flag(
            "targeted",
            rules=[
                targeting(condition("country", "EQUALS", "DE")),
                pb.TargetingRule(
                    conditions=[condition("beta", "EQUALS", True)], rollout=rollout(100_000)
                ),
            ],
        ),
    )

    async def evaluate(
        key: str, context: EvaluationContext | None = None, **kw: object
    ) -> pb.EvaluationResult:
        request = pb.EvaluateFlagRequest(
            environment=ENV,
            flag_key=key,
            context=(context or EvaluationContext()).to_proto(),
            **kw,  # type: ignore[arg-type]
        )
        result: pb.EvaluationResult = (await client.flags.EvaluateFlag(request)).result
        return result

    reasons = [
        (await evaluate("static")).reason,
        (await evaluate("targeted", EvaluationContext("u", {"country": "DE"}))).reason,
        (await evaluate("targeted", EvaluationContext("u", {"beta": True}))).reason,
        (await evaluate("off")).reason,
        (await evaluate("targeted", EvaluationContext("u"))).reason,
        (await evaluate("missing")).reason,
    ]
    R = pb.EvaluationReason
    assert [R.Name(r).removeprefix("EVALUATION_REASON_") for r in reasons] == [
        "STATIC",
        "TARGETING_MATCH",
        "SPLIT",
        "DISABLED",
        "DEFAULT",
        "ERROR",
    ]
    match = await evaluate("targeted", EvaluationContext("u", {"country": "DE"}))
    assert (match.value.bool_value, match.variant, match.rule_id, match.flag_version) == (
        True,
        "on",
        "r",
        1,
    )
    split = await evaluate("targeted", EvaluationContext("u", {"beta": True}))
    assert split.rule_id == "rule-1"  # assigned by the server to the rule without an id
    assert (await evaluate("missing")).error_code == pb.EVALUATION_ERROR_CODE_FLAG_NOT_FOUND
    mismatch = await evaluate("static", expected_type=pb.VARIANT_TYPE_NUMBER)
    assert mismatch.error_code == pb.EVALUATION_ERROR_CODE_TYPE_MISMATCH
    many = await client.flags.EvaluateFlags(
        pb.EvaluateFlagsRequest(
            environment=ENV, context=EvaluationContext("u", {"country": "DE"}).to_proto()
        )
    )
    assert [(r.flag_key, r.value.bool_value) for r in many.results] == [
        ("off", False),
        ("static", False),
        ("targeted", True),
    ]
    assert many.revision == 3


async def test_tenants_never_see_each_other(
    centrum: CentrumApp, token_mint: TokenMint, client: aio.AsyncClient
) -> None:
    """Another tenant's flags are NOT_FOUND, unlisted, unevaluable and unwritable by version."""
    await put(client, bool_flag("secret-plan"))
    async with connect(centrum, token_mint, tenant="globex") as other:
        error = await rpc_error(
            other.flags.GetFlag(pb.GetFlagRequest(environment=ENV, key="secret-plan"))
        )
        assert error.status == grpc.StatusCode.NOT_FOUND
        listed = await other.flags.ListFlags(pb.ListFlagsRequest(environment=ENV))
        assert (list(listed.flags), listed.revision) == ([], 0)
        result = (
            await other.flags.EvaluateFlag(
                pb.EvaluateFlagRequest(environment=ENV, flag_key="secret-plan")
            )
        ).result
        assert result.error_code == pb.EVALUATION_ERROR_CODE_FLAG_NOT_FOUND
        own = await put(other, bool_flag("secret-plan"))
        assert (own.version, own.revision) == (1, 1)


async def test_scopes_are_enforced(centrum: CentrumApp, token_mint: TokenMint) -> None:
    """A read-only token may evaluate but not write (PERMISSION_DENIED)."""
    token = token_mint.token(scopes=["flags.read"])
    async with aio.connect(f"127.0.0.1:{centrum.port}", token=token) as reader:
        error = await rpc_error(
            reader.flags.SetFlag(pb.SetFlagRequest(environment=ENV, key="k", flag=bool_flag("k")))
        )
        assert error.status == grpc.StatusCode.PERMISSION_DENIED
        await reader.flags.EvaluateFlags(pb.EvaluateFlagsRequest(environment=ENV))


async def test_changes_are_audited_with_version_and_revision(
    centrum: CentrumApp, client: aio.AsyncClient
) -> None:
    """Each change leaves a config/flag.* audit event with the new version and revision."""
    await put(client, bool_flag("audited"))
    await client.flags.DeleteFlag(pb.DeleteFlagRequest(environment=ENV, key="audited"))

    async def domain_events() -> list[audit_pb2.AuditEvent]:
        events = await centrum.audit_log.events(0, 1000)
        return [e for e in events if e.category == "config" and e.action.startswith("flag.")]

    deadline = asyncio.get_running_loop().time() + 10
    while len(found := await domain_events()) < 2:
        assert asyncio.get_running_loop().time() < deadline, "flag audit events not stored"
        await asyncio.sleep(0.05)
    put_event, delete_event = found
    assert (put_event.action, put_event.resource.id, put_event.actor.tenant) == (
        "flag.put",
        f"{ENV}/audited",
        "acme",
    )
    assert put_event.details["version"] == 1 and put_event.details["revision"] == 1
    assert (delete_event.action, delete_event.details["revision"]) == ("flag.delete", 2)


async def test_watch_streams_snapshot_changes_and_resumes(
    client: aio.AsyncClient, watch_auth: tuple[tuple[str, str], ...]
) -> None:
    """WatchFlags sends a snapshot, then each change; resuming sends only what was missed."""
    await put(client, bool_flag("w1"))
    await client.flags.SetSegment(
        pb.SetSegmentRequest(environment=ENV, key="s", segment=pb.Segment())
    )
    stream = client.flags.WatchFlags(pb.WatchFlagsRequest(environment=ENV), metadata=watch_auth)
    first = await stream.read()
    assert first.snapshot.revision == 2
    assert [f.key for f in first.snapshot.flags] == ["w1"]
    assert [s.key for s in first.snapshot.segments] == ["s"]
    await put(client, bool_flag("w2"))
    change = await asyncio.wait_for(stream.read(), 10)
    assert (change.change.type, change.change.key, change.change.revision) == (
        pb.FLAG_CHANGE_TYPE_FLAG_PUT,
        "w2",
        3,
    )
    assert change.change.flag.key == "w2" and change.change.actor == "svc-test"
    stream.cancel()
    await client.flags.DeleteFlag(pb.DeleteFlagRequest(environment=ENV, key="w1"))
    await put(client, bool_flag("w3"))
    resumed = client.flags.WatchFlags(
        pb.WatchFlagsRequest(environment=ENV, resume_revision=3), metadata=watch_auth
    )
    missed = [await asyncio.wait_for(resumed.read(), 10) for _ in range(2)]
    assert [(m.change.type, m.change.revision) for m in missed] == [
        (pb.FLAG_CHANGE_TYPE_FLAG_DELETE, 4),
        (pb.FLAG_CHANGE_TYPE_FLAG_PUT, 5),
    ]
    resumed.cancel()
    ahead = client.flags.WatchFlags(
        pb.WatchFlagsRequest(environment=ENV, resume_revision=99), metadata=watch_auth
    )
    assert (await asyncio.wait_for(ahead.read(), 10)).snapshot.revision == 5
    ahead.cancel()


async def test_watch_sends_progress_while_idle(
    client: aio.AsyncClient, watch_auth: tuple[tuple[str, str], ...]
) -> None:
    """An idle watch sends progress events carrying the revision held."""
    await put(client, bool_flag("idle"))
    request = pb.WatchFlagsRequest(environment=ENV)
    request.progress_interval.FromMilliseconds(1000)
    stream = client.flags.WatchFlags(request, metadata=watch_auth)
    assert (await stream.read()).HasField("snapshot")
    progress = await asyncio.wait_for(stream.read(), 10)
    assert progress.progress.revision == 1
    stream.cancel()


async def test_watch_rejects_a_bad_request(
    client: aio.AsyncClient, watch_auth: tuple[tuple[str, str], ...]
) -> None:
    """A watch without environment ends INVALID_ARGUMENT."""
    stream = client.flags.WatchFlags(pb.WatchFlagsRequest(resume_revision=-1), metadata=watch_auth)
    with pytest.raises(grpc.RpcError) as failure:
        await stream.read()
    error = failure.value
    code = error.status if isinstance(error, CentrumError) else error.code()
    assert code == grpc.StatusCode.INVALID_ARGUMENT


async def test_flag_client_evaluates_locally_and_follows_changes(
    client: aio.AsyncClient, watch_auth: tuple[tuple[str, str], ...]
) -> None:
    """The SDK FlagClient serves from memory after warm-up and picks up a change by watch."""
    await put(client, bool_flag("local", rules=[targeting(condition("country", "EQUALS", "DE"))]))
    async with FlagClient(client.flags, ENV, metadata=watch_auth) as flags:
        assert flags.evaluate("local").reason == pb.EVALUATION_REASON_ERROR
        await flags.wait_ready(within_s=10)
        assert flags.get_bool("local", True, EvaluationContext("u", {"country": "DE"})) is True
        assert flags.get_bool("local", True, EvaluationContext("u")) is False
        assert flags.get_string("local", "x") == "x"  # type mismatch serves the code default
        changed = await put(client, bool_flag("local", enabled=False))
        await flags.wait_for_revision(changed.revision, within_s=10)
        result = flags.evaluate("local", EvaluationContext("u", {"country": "DE"}))
        assert (result.value, result.reason) == (False, pb.EVALUATION_REASON_DISABLED)


async def test_database_down_is_unavailable(
    start_centrum: StartCentrum, token_mint: TokenMint, postgres_url: str
) -> None:
    """With the database gone, reads, writes and evaluations are UNAVAILABLE with RetryInfo.

    A raw channel is used: the SDK would retry the idempotent calls until their deadline.
    """
    role = make_url(postgres_url).username or ""
    name = new_database_name()
    create_database(role, name)
    try:
        app = await start_centrum(database_url=sqlalchemy_url(role, name))
        auth = bearer(token_mint.token(scopes=SCOPES))
        async with channel(app) as raw:
            stub = pb_grpc.FlagServiceStub(raw)
            flag = bool_flag("doomed")
            set_request = pb.SetFlagRequest(environment=ENV, key=flag.key, flag=flag)
            await stub.SetFlag(set_request, metadata=auth)
            await asyncio.to_thread(drop_database, role, name)
            calls = [
                stub.GetFlag(pb.GetFlagRequest(environment=ENV, key="doomed"), metadata=auth),
                stub.SetFlag(set_request, metadata=auth),
                stub.EvaluateFlag(
                    pb.EvaluateFlagRequest(environment=ENV, flag_key="doomed"), metadata=auth
                ),
            ]
            for call in calls:
                with pytest.raises(grpc.aio.AioRpcError) as failure:
                    await call  # type: ignore[misc]
                assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
                retry = detail(failure.value, error_details_pb2.RetryInfo)
                assert retry.retry_delay.seconds == 1
    finally:
        await asyncio.to_thread(drop_database, role, name)
