"""Request validators of ConfigService and SecretService, keyed by full method path.

Violations name the field and the rule, never the field's value (secret data must not reach an
error message).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from google.protobuf import message

from centrum.config.v1 import config_service_pb2 as cpb
from centrum.config.v1 import secret_service_pb2 as spb
from centrum.interceptors.errors import FieldViolation
from centrum.interceptors.validation import Validator

__all__ = ["config_validators", "secret_validators"]

_ENVIRONMENT = re.compile(r"[A-Za-z0-9_.-]{1,128}")
_PATH = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
_PREFIX = re.compile(r"[A-Za-z0-9_./-]*")
_MAX_PATH_BYTES = 512
_MAX_REASON = 1024
_MAX_DESCRIPTION = 4096
_MAX_SECRET_BYTES = 64 * 1024
_CONFIG = "/centrum.config.v1.ConfigService/"
_SECRET = "/centrum.config.v1.SecretService/"  # noqa: S105 - a method path


def _environment(value: str) -> list[FieldViolation]:
    if not _ENVIRONMENT.fullmatch(value):
        return [FieldViolation("environment", "required: 1-128 letters, digits, '_', '-', '.'")]
    return []


def _path(name: str, value: str) -> list[FieldViolation]:
    if not value:
        return [FieldViolation(name, "required")]
    if len(value.encode()) > _MAX_PATH_BYTES or not _PATH.fullmatch(value):
        return [
            FieldViolation(
                name,
                "segments of letters, digits, '_', '-', '.' separated by '/', at most 512 bytes",
            )
        ]
    return []


def _prefix(value: str) -> list[FieldViolation]:
    if len(value.encode()) > _MAX_PATH_BYTES or not _PREFIX.fullmatch(value):
        return [FieldViolation("prefix", "letters, digits, '_', '-', '.', '/', at most 512 bytes")]
    return []


def _non_negative(request: Any, *names: str) -> list[FieldViolation]:
    return [FieldViolation(n, "must not be negative") for n in names if getattr(request, n) < 0]


def _text(request: Any, name: str, limit: int) -> list[FieldViolation]:
    if len(getattr(request, name)) > limit:
        return [FieldViolation(name, f"at most {limit} characters")]
    return []


def _addressed(request: Any) -> list[FieldViolation]:
    return _environment(request.environment) + _path("key", request.key)


def config_validators(max_value_bytes: int) -> dict[str, Validator]:
    """Validators of every ConfigService method."""

    def get_value(request: Any) -> list[FieldViolation]:
        return _addressed(request) + _non_negative(request, "revision")

    def list_values(request: Any) -> list[FieldViolation]:
        return (
            _environment(request.environment)
            + _prefix(request.prefix)
            + _non_negative(request, "revision")
        )

    def set_value(request: Any) -> list[FieldViolation]:
        violations = _addressed(request) + _non_negative(request, "expected_revision")
        if not request.HasField("value"):
            violations.append(FieldViolation("value", "required (null_value is a valid value)"))
        elif request.value.ByteSize() > max_value_bytes:
            violations.append(FieldViolation("value", f"at most {max_value_bytes} bytes"))
        if request.create_only and request.expected_revision:
            violations.append(
                FieldViolation("create_only", "cannot be combined with expected_revision")
            )
        violations += _text(request, "reason", _MAX_REASON)
        if request.HasField("description"):
            violations += _text(request, "description", _MAX_DESCRIPTION)
        return violations

    def delete_value(request: Any) -> list[FieldViolation]:
        return (
            _addressed(request)
            + _non_negative(request, "expected_revision")
            + _text(request, "reason", _MAX_REASON)
        )

    def get_history(request: Any) -> list[FieldViolation]:
        return _addressed(request)

    def rollback(request: Any) -> list[FieldViolation]:
        violations = _addressed(request) + _non_negative(request, "expected_revision")
        if request.revision <= 0:
            violations.append(FieldViolation("revision", "required: a positive revision"))
        return violations + _text(request, "reason", _MAX_REASON)

    def watch(request: Any) -> list[FieldViolation]:
        violations = _environment(request.environment) + _non_negative(request, "start_revision")
        target = request.WhichOneof("target")
        if target == "key":
            violations += _path("key", request.key)
        elif target == "prefix":
            violations += _prefix(request.prefix)
        if request.HasField("progress_interval") and request.progress_interval.ToNanoseconds() < 0:
            violations.append(FieldViolation("progress_interval", "must not be negative"))
        return violations

    checks: dict[str, Callable[[Any], list[FieldViolation]]] = {
        "GetValue": get_value,
        "ListValues": list_values,
        "SetValue": set_value,
        "DeleteValue": delete_value,
        "GetHistory": get_history,
        "Rollback": rollback,
        "Watch": watch,
    }
    assert set(checks) == set(cpb.DESCRIPTOR.services_by_name["ConfigService"].methods_by_name)
    return {_CONFIG + name: _typed(check) for name, check in checks.items()}


def _secret_path(request: Any) -> list[FieldViolation]:
    return _path("path", request.path)


def secret_validators() -> dict[str, Validator]:
    """Validators of every SecretService method."""

    def get_secret(request: Any) -> list[FieldViolation]:
        return _secret_path(request) + _non_negative(request, "version")

    def put_secret(request: Any) -> list[FieldViolation]:
        violations = _secret_path(request) + _non_negative(request, "expected_version")
        if not request.data:
            violations.append(FieldViolation("data", "at least one key/value pair"))
        elif any(not key for key in request.data):
            violations.append(FieldViolation("data", "keys must not be empty"))
        elif sum(len(k.encode()) + len(v.encode()) for k, v in request.data.items()) > (
            _MAX_SECRET_BYTES
        ):
            violations.append(FieldViolation("data", "at most 64 KiB in total"))
        if request.create_only and request.expected_version:
            violations.append(
                FieldViolation("create_only", "cannot be combined with expected_version")
            )
        return violations

    def list_versions(request: Any) -> list[FieldViolation]:
        return _secret_path(request)

    def delete_secret(request: Any) -> list[FieldViolation]:
        violations = _secret_path(request)
        if any(v <= 0 for v in request.versions):
            violations.append(FieldViolation("versions", "versions are positive numbers"))
        if request.mode == spb.SECRET_DELETE_MODE_PURGE and request.versions:
            violations.append(FieldViolation("versions", "must be empty for PURGE"))
        return violations

    def list_secrets(request: Any) -> list[FieldViolation]:
        return _prefix(request.prefix)

    checks: dict[str, Callable[[Any], list[FieldViolation]]] = {
        "GetSecret": get_secret,
        "PutSecret": put_secret,
        "ListSecretVersions": list_versions,
        "DeleteSecret": delete_secret,
        "ListSecrets": list_secrets,
    }
    assert set(checks) == set(spb.DESCRIPTOR.services_by_name["SecretService"].methods_by_name)
    return {_SECRET + name: _typed(check) for name, check in checks.items()}


def _typed(check: Callable[[Any], list[FieldViolation]]) -> Validator:
    def validate(request: message.Message) -> list[FieldViolation]:
        return check(request)

    return validate
