"""The validation step's generic rules, which hold for every RPC of every service."""

from __future__ import annotations

from centrum.audit.v1 import audit_service_pb2
from centrum.config.v1 import config_service_pb2
from centrum.interceptors.validation import _generic_violations


def test_unsigned_values_beyond_int64_are_refused() -> None:
    """A uint64 above 2^63-1 cannot be stored by any backend: INVALID_ARGUMENT, not INTERNAL."""
    violations = _generic_violations(audit_service_pb2.GetEntryRequest(index=2**64 - 1))
    assert [v.field for v in violations] == ["index"]
    assert _generic_violations(audit_service_pb2.GetEntryRequest(index=2**63 - 1)) == []


def test_times_out_of_range_are_refused_at_any_depth() -> None:
    """Timestamps outside years 1..9999 are refused, nested fields named by their path."""
    request = audit_service_pb2.QueryRequest()
    request.filter.start_time.seconds = -(2**63)
    assert [v.field for v in _generic_violations(request)] == ["filter.start_time"]


def test_page_size_bounds() -> None:
    """page_size must be within 0..1000."""
    assert _generic_violations(config_service_pb2.ListValuesRequest(page_size=1000)) == []
    violations = _generic_violations(config_service_pb2.ListValuesRequest(page_size=1001))
    assert [v.field for v in violations] == ["page_size"]
