"""An OpenFeature provider backed by the in-process `FlagClient`.

    from openfeature import api
    from centrum.sdk.flags.provider import CentrumProvider

    api.set_provider(CentrumProvider(flag_client))
    enabled = api.get_client().get_boolean_value("checkout.new-flow", False, ctx)

This module needs the optional `openfeature-sdk` package; the rest of `centrum.sdk` does not, and
nothing imports this module implicitly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

try:
    from openfeature.evaluation_context import EvaluationContext as OpenFeatureContext
    from openfeature.event import ProviderEvent, ProviderEventDetails
    from openfeature.exception import ErrorCode
    from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType, Reason
    from openfeature.provider import AbstractProvider, Metadata
except ImportError as exc:  # pragma: no cover - exercised only without the optional package
    raise ImportError(
        "centrum.sdk.flags.provider needs the openfeature-sdk package: pip install openfeature-sdk"
    ) from exc

from centrum.config.v1 import flag_service_pb2 as pb
from centrum.sdk.flags.client import FlagClient
from centrum.sdk.flags.evaluation import Evaluation, EvaluationContext

__all__ = ["CentrumProvider", "to_context"]

T = TypeVar("T")

_REASONS: dict[int, Reason] = {
    pb.EVALUATION_REASON_STATIC: Reason.STATIC,
    pb.EVALUATION_REASON_TARGETING_MATCH: Reason.TARGETING_MATCH,
    pb.EVALUATION_REASON_SPLIT: Reason.SPLIT,
    pb.EVALUATION_REASON_DISABLED: Reason.DISABLED,
    pb.EVALUATION_REASON_DEFAULT: Reason.DEFAULT,
    pb.EVALUATION_REASON_ERROR: Reason.ERROR,
}
_ERRORS: dict[int, ErrorCode] = {
    pb.EVALUATION_ERROR_CODE_FLAG_NOT_FOUND: ErrorCode.FLAG_NOT_FOUND,
    pb.EVALUATION_ERROR_CODE_TYPE_MISMATCH: ErrorCode.TYPE_MISMATCH,
    pb.EVALUATION_ERROR_CODE_PARSE_ERROR: ErrorCode.PARSE_ERROR,
    pb.EVALUATION_ERROR_CODE_GENERAL: ErrorCode.GENERAL,
}


def to_context(context: OpenFeatureContext | None) -> EvaluationContext:
    """Centrum's evaluation context for an OpenFeature one."""
    if context is None:
        return EvaluationContext()
    return EvaluationContext(context.targeting_key or "", dict(context.attributes))


class CentrumProvider(AbstractProvider):
    """Resolves OpenFeature flags from a Centrum `FlagClient`, in process."""

    def __init__(self, client: FlagClient) -> None:
        super().__init__()
        self._client = client
        client.add_listener(self._changed)

    def get_metadata(self) -> Metadata:
        """Names the provider."""
        return Metadata(name="centrum")

    def _changed(self, revision: int) -> None:
        emit = getattr(self, "_on_emit", None)
        if emit is not None:
            emit(
                self,
                ProviderEvent.PROVIDER_CONFIGURATION_CHANGED,
                ProviderEventDetails(message=f"flag set at revision {revision}"),
            )

    def _resolve(
        self,
        flag_key: str,
        default: T,
        context: OpenFeatureContext | None,
        expected: int,
        convert: Any,
    ) -> FlagResolutionDetails[T]:
        if not self._client.ready:
            return FlagResolutionDetails(
                value=default,
                reason=Reason.ERROR,
                error_code=ErrorCode.PROVIDER_NOT_READY,
                error_message="the flag set has not been received yet",
            )
        result: Evaluation = self._client.evaluate(flag_key, to_context(context), expected)
        details: FlagResolutionDetails[T] = FlagResolutionDetails(
            value=default,
            reason=_REASONS.get(result.reason, Reason.UNKNOWN),
            variant=result.variant or None,
            flag_metadata=dict(result.flag_metadata),
        )
        if result.error_code:
            details.error_code = _ERRORS.get(result.error_code, ErrorCode.GENERAL)
            details.error_message = result.error_message
            return details
        if result.value is not None:
            converted = convert(result.value)
            if converted is None:
                details.reason = Reason.ERROR
                details.error_code = ErrorCode.TYPE_MISMATCH
                details.error_message = f"flag {flag_key!r} does not hold that type of number"
                return details
            details.value = converted
        return details

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: OpenFeatureContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        """Resolves a bool flag."""
        return self._resolve(
            flag_key, default_value, evaluation_context, pb.VARIANT_TYPE_BOOL, bool
        )

    def resolve_string_details(
        self,
        flag_key: str,
        default_value: str,
        evaluation_context: OpenFeatureContext | None = None,
    ) -> FlagResolutionDetails[str]:
        """Resolves a string flag."""
        return self._resolve(
            flag_key, default_value, evaluation_context, pb.VARIANT_TYPE_STRING, str
        )

    def resolve_integer_details(
        self,
        flag_key: str,
        default_value: int,
        evaluation_context: OpenFeatureContext | None = None,
    ) -> FlagResolutionDetails[int]:
        """Resolves a number flag whose value is integral."""
        return self._resolve(
            flag_key, default_value, evaluation_context, pb.VARIANT_TYPE_NUMBER, _integer
        )

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: OpenFeatureContext | None = None,
    ) -> FlagResolutionDetails[float]:
        """Resolves a number flag."""
        return self._resolve(
            flag_key, default_value, evaluation_context, pb.VARIANT_TYPE_NUMBER, float
        )

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: Sequence[FlagValueType] | Mapping[str, FlagValueType],
        evaluation_context: OpenFeatureContext | None = None,
    ) -> FlagResolutionDetails[Sequence[FlagValueType] | Mapping[str, FlagValueType]]:
        """Resolves a JSON (object or list) flag."""
        return self._resolve(
            flag_key, default_value, evaluation_context, pb.VARIANT_TYPE_OBJECT, _same
        )


def _integer(value: Any) -> int | None:
    number = float(value)
    return int(number) if number.is_integer() else None


def _same(value: Any) -> Any:
    return value
