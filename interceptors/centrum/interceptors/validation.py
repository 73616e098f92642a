"""The validation step: requests checked before any handler sees them.

Generic rules hold for every RPC (AIP-158 page sizes); each service registers a validator per
method for the rest. All violations of a request are reported at once, as one INVALID_ARGUMENT
with `BadRequest` field violations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from google.protobuf import message

from centrum.interceptors.chain import Call
from centrum.interceptors.errors import FieldViolation, InvalidArgument
from centrum.interceptors.step import Step

__all__ = ["MAX_PAGE_SIZE", "ValidationStep", "Validator"]

MAX_PAGE_SIZE = 1000

Validator = Callable[[message.Message], Sequence[FieldViolation]]
"""Returns the violations of a request; empty when it is valid."""


class ValidationStep(Step):
    """Runs the generic rules and the method's own validator on unary requests."""

    def __init__(self, validators: Mapping[str, Validator] | None = None) -> None:
        self._validators = dict(validators or {})

    async def before(self, call: Call) -> None:
        """Raises InvalidArgument listing every violation of the request."""
        request = call.request
        if request is None:
            return
        violations = list(_generic_violations(request))
        validator = self._validators.get(call.policy.method)
        if validator is not None:
            violations.extend(validator(request))
        if violations:
            raise InvalidArgument(
                "the request is invalid: "
                + "; ".join(f"{v.field}: {v.description}" for v in violations),
                reason="INVALID_REQUEST",
                field_violations=violations,
            )


def _generic_violations(request: message.Message) -> list[FieldViolation]:
    fields = request.DESCRIPTOR.fields_by_name
    if "page_size" in fields:
        size: int = getattr(request, "page_size")  # noqa: B009 - only some messages have it
        if not 0 <= size <= MAX_PAGE_SIZE:
            return [FieldViolation("page_size", f"must be between 0 and {MAX_PAGE_SIZE}")]
    return []
