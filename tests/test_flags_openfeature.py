"""The OpenFeature provider: the standard API resolves Centrum flags from the in-process client."""

from __future__ import annotations

from openfeature import api
from openfeature.evaluation_context import EvaluationContext as OpenFeatureContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason
from test_flags_evaluation import bool_flag, condition, targeting

from centrum.config.v1 import flag_service_pb2 as pb
from centrum.sdk.flags import FlagClient, python_to_value
from centrum.sdk.flags.provider import CentrumProvider


def ready_client(*flags: pb.Flag) -> FlagClient:
    """A FlagClient holding `flags`, fed as a WatchFlags snapshot would feed it."""
    client = FlagClient(stub=None, environment="e")
    snapshot = pb.FlagSetSnapshot(environment="e", flags=list(flags), revision=1)
    client._receive(pb.WatchFlagsResponse(snapshot=snapshot))
    return client


def test_openfeature_resolves_through_the_provider() -> None:
    """Values, variants and reasons map to OpenFeature's; errors fall back to the code default."""
    limit = pb.Flag(
        key="limit",
        enabled=True,
        variant_type=pb.VARIANT_TYPE_NUMBER,
        variants={"low": python_to_value(10), "frac": python_to_value(2.5)},
        default_variant="low",
    )
    client = ready_client(
        bool_flag("beta", rules=[targeting(condition("country", "EQUALS", "DE"))]), limit
    )
    api.set_provider(CentrumProvider(client))
    of = api.get_client()
    german = OpenFeatureContext(targeting_key="u1", attributes={"country": "DE"})
    details = of.get_boolean_details("beta", False, german)
    assert (details.value, details.variant, details.reason) == (True, "on", Reason.TARGETING_MATCH)
    assert of.get_boolean_value("beta", True, OpenFeatureContext("u2")) is False
    assert of.get_integer_value("limit", 0) == 10
    assert of.get_float_value("limit", 0.0) == 10.0
    missing = of.get_boolean_details("nope", True)
    assert (missing.value, missing.error_code) == (True, ErrorCode.FLAG_NOT_FOUND)
    wrong = of.get_string_details("beta", "fallback")
    assert (wrong.value, wrong.error_code) == ("fallback", ErrorCode.TYPE_MISMATCH)
    api.clear_providers()


def test_a_provider_before_the_first_snapshot_is_not_ready() -> None:
    """Until WatchFlags delivered a snapshot every resolution is PROVIDER_NOT_READY."""
    provider = CentrumProvider(FlagClient(stub=None, environment="e"))
    details = provider.resolve_boolean_details("beta", True)
    assert (details.value, details.error_code) == (True, ErrorCode.PROVIDER_NOT_READY)
