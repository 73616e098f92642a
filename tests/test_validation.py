"""The validation step's generic rules, which hold for every RPC of every service."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    message_factory,
    struct_pb2,
    timestamp_pb2,
)

from centrum.audit.v1 import audit_service_pb2
from centrum.auth.v1 import auth_service_pb2
from centrum.config.v1 import config_service_pb2, secret_service_pb2
from centrum.interceptors.validation import _generic_violations
from centrum.notification.v1 import (
    notification_pb2,
    notification_service_pb2,
    template_pb2,
    template_service_pb2,
)
from centrum.sdk import aio
from centrum.sdk.errors import CentrumError
from harness.centrum import StartCentrum
from harness.tokens import TokenMint

_NUL = "must not contain NUL characters"


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


def test_nul_characters_are_refused_in_any_string() -> None:
    """PostgreSQL text holds no NUL: singular, repeated and map strings (keys and values), and
    strings inside map values, are refused by the path of their field."""
    send = notification_service_pb2.SendRequest(
        recipient=notification_pb2.Recipient(
            email=notification_pb2.EmailRecipient(headers={"X-A": "\x00"})
        ),
        tags=["ok", "b\x00"],
        category="\x00",
    )
    send.context.fields["k\x00"].string_value = "v"
    assert sorted((v.field, v.description) for v in _generic_violations(send)) == [
        ("category", _NUL),
        ("context.fields", _NUL),
        ("recipient.email.headers", _NUL),
        ("tags", _NUL),
    ]
    template = template_service_pb2.CreateTemplateRequest(
        template_id="t",
        template=template_pb2.Template(locales={"en": template_pb2.TemplateVariant(text="\x00")}),
    )
    assert [v.field for v in _generic_violations(template)] == ["template.locales.text"]
    value = config_service_pb2.SetValueRequest(environment="e", key="k")
    value.value.struct_value.fields["a"].list_value.values.add(string_value="\x00")
    assert [v.field for v in _generic_violations(value)] == [
        "value.struct_value.fields.list_value.values.string_value"
    ]
    clean = notification_service_pb2.SendRequest(tags=["a"], category="c")
    clean.context.fields["k"].string_value = "v"
    assert _generic_violations(clean) == []


def test_secret_fields_may_hold_nul_characters() -> None:
    """SECRET strings are stored only hashed or encrypted, and a malformed credential must reach
    its service (which answers it like a wrong one): the NUL rule passes them, keys included."""
    secrets: list[Any] = [
        auth_service_pb2.TokenRequest(client_id="c", client_secret="s\x00"),
        auth_service_pb2.LoginRequest(username="u", password="p\x00"),
        auth_service_pb2.IntrospectTokenRequest(token="\x00"),
        auth_service_pb2.RevokeTokenRequest(token="crt_\x00.x"),
        auth_service_pb2.RefreshRequest(refresh_token="\x00"),
        secret_service_pb2.PutSecretRequest(path="p", data={"k\x00": "v\x00"}),
        notification_service_pb2.SendRequest(
            recipient=notification_pb2.Recipient(
                webhook=notification_pb2.WebhookRecipient(
                    url="https://example.org",
                    headers={"Authorization\x00": "Bearer \x00"},
                    signing_secret="\x00",
                )
            )
        ),
    ]
    for request in secrets:
        assert _generic_violations(request) == [], request
    # The field next to the secret is still checked.
    token = auth_service_pb2.TokenRequest(client_id="c\x00", client_secret="s\x00")
    assert [v.field for v in _generic_violations(token)] == ["client_id"]


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
async def test_a_nul_in_a_stored_string_is_invalid_argument(
    start_centrum: StartCentrum, token_mint: TokenMint, database: dict[str, Any]
) -> None:
    """A config value's description with a NUL failed in the PostgreSQL driver (reported as
    UNAVAILABLE, retryable) and was stored on SQLite; on every database it is INVALID_ARGUMENT
    naming the field, and nothing is stored."""
    app = await start_centrum(**database)
    token = token_mint.token(subject="ann", scopes=["config.read", "config.write"])
    async with aio.connect(f"127.0.0.1:{app.port}", token=token) as client:
        with pytest.raises(CentrumError) as failure:
            await client.config.SetValue(
                config_service_pb2.SetValueRequest(
                    environment="prod",
                    key="pay/limit",
                    value=struct_pb2.Value(number_value=1),
                    description="limit\x00",
                )
            )
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT, str(failure.value)
        assert [(v.field, v.description) for v in failure.value.field_violations] == [
            ("description", _NUL)
        ]
        with pytest.raises(CentrumError) as missing:
            await client.config.GetValue(
                config_service_pb2.GetValueRequest(environment="prod", key="pay/limit")
            )
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def _maps_message() -> Any:
    """A message class with maps of times, uint64 and messages, which no contract has yet."""
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    file = descriptor_pb2.FileDescriptorProto(
        name="centrum_test/validation_maps.proto",
        package="centrum_test",
        dependency=["google/protobuf/timestamp.proto"],
        syntax="proto3",
    )
    field = descriptor_pb2.FieldDescriptorProto
    maps = file.message_type.add(name="Maps")
    values: list[tuple[str, dict[str, Any]]] = [
        ("times", {"type": field.TYPE_MESSAGE, "type_name": ".google.protobuf.Timestamp"}),
        ("counts", {"type": field.TYPE_UINT64}),
        ("children", {"type": field.TYPE_MESSAGE, "type_name": ".centrum_test.Maps"}),
    ]
    for number, (name, value) in enumerate(values, start=1):
        entry = maps.nested_type.add(name=name.capitalize() + "Entry")
        entry.options.map_entry = True
        entry.field.add(name="key", number=1, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL)
        entry.field.add(name="value", number=2, label=field.LABEL_OPTIONAL, **value)
        maps.field.add(
            name=name,
            number=number,
            type=field.TYPE_MESSAGE,
            type_name=f".centrum_test.Maps.{entry.name}",
            label=field.LABEL_REPEATED,
        )
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("centrum_test.Maps"))


def test_map_values_are_checked_like_fields() -> None:
    """Times and unsigned values in maps, and messages in maps at any depth, are checked."""
    maps = _maps_message()
    request = maps()
    request.times["a"].seconds = -(2**62)
    request.counts["b"] = 2**64 - 1
    request.children["c"].children["d\x00"].counts["e"] = 1
    assert sorted(v.field for v in _generic_violations(request)) == [
        "children.children",
        "counts",
        "times",
    ]
    fine = maps()
    fine.times["a"].seconds = 0
    fine.counts["b"] = 2**63 - 1
    fine.children["c"].children["d"].counts["e"] = 1
    assert _generic_violations(fine) == []
