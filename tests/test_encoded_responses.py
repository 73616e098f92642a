"""Responses already in wire form: `BytesField` encodes what protobuf would, the chain's
serializer sends an `Encoded` as it is, and downloads (whose chunks go out encoded) arrive
whole, as ordinary DownloadResponse messages."""

from __future__ import annotations

import pytest
from google.protobuf import wrappers_pb2
from test_storage_kit import Client, pattern

from centrum.interceptors.encoded import BytesField, Encoded, passing_encoded
from centrum.storage.v1 import storage_service_pb2 as pb
from harness.centrum import StartCentrum, channel
from harness.tokens import TokenMint

MIB = 1024 * 1024
LENGTHS = [0, 1, 3, 127, 128, 1000, 16383, 16384, 65537, 999_999, MIB - 1, MIB, MIB + 7]


@pytest.mark.parametrize("length", LENGTHS)
def test_an_encoded_chunk_is_what_protobuf_serializes(length: int) -> None:
    """For every length (varint widths 1 to 3, odd sizes) the encoded chunk is byte for byte
    the serialized message, and parses back to it."""
    payload = pattern(length, seed=length)
    encoded = BytesField(pb.DownloadResponse, "chunk").encode(payload)
    expected = pb.DownloadResponse(chunk=payload)
    assert encoded.wire == expected.SerializeToString()
    parsed = pb.DownloadResponse.FromString(encoded.wire)
    assert parsed == expected
    assert parsed.WhichOneof("payload") == "chunk"


def test_lengths_in_any_order_share_one_encoder() -> None:
    """The cached prefixes are per length: interleaved lengths never borrow each other's."""
    field = BytesField(pb.DownloadResponse, "chunk")
    for length in [MIB, 5, MIB, 128, 127, 5, MIB + 7, 0, MIB]:
        payload = pattern(length, seed=1)
        assert pb.DownloadResponse.FromString(field.encode(payload).wire).chunk == payload


@pytest.mark.parametrize("length", [0, 1, 200, 70_000])
def test_a_field_outside_a_oneof_encodes_too(length: int) -> None:
    """A plain proto3 bytes field (no presence: empty means absent) encodes as protobuf does."""
    payload = pattern(length)
    encoded = BytesField(wrappers_pb2.BytesValue, "value").encode(payload)
    assert encoded.wire == wrappers_pb2.BytesValue(value=payload).SerializeToString()
    assert wrappers_pb2.BytesValue.FromString(encoded.wire).value == payload


@pytest.mark.parametrize(
    ("message_type", "field"),
    [(pb.DownloadResponse, "object"), (pb.DownloadResponse, "nope"), (pb.DownloadRequest, "key")],
)
def test_only_singular_bytes_fields_are_accepted(message_type: type, field: str) -> None:
    """A message field, a string field or an unknown name is refused up front."""
    with pytest.raises(ValueError, match="no singular bytes"):
        BytesField(message_type, field)


def test_the_serializer_passes_encoded_and_serializes_the_rest() -> None:
    """An Encoded response goes out as its wire bytes; any other goes to the original
    serializer; without one, bytes pass as they are."""
    serialize = passing_encoded(pb.DownloadResponse.SerializeToString)
    wire = pb.DownloadResponse(chunk=b"abc").SerializeToString()
    assert serialize(Encoded(wire)) is wire
    message = pb.DownloadResponse(object={"key": "k"})
    assert serialize(message) == message.SerializeToString()
    raw = passing_encoded(None)
    assert raw(Encoded(wire)) is wire
    assert raw(b"as is") == b"as is"


@pytest.mark.parametrize("encryption", [False, True])
async def test_downloads_arrive_whole_through_the_chain(
    start_centrum: StartCentrum, token_mint: TokenMint, encryption: bool
) -> None:
    """Metadata first, then chunks: full reads and odd ranges across chunk boundaries return
    exactly the stored bytes, as ordinary messages."""
    app = await start_centrum(storage={"encryption": encryption})
    data = pattern(2 * MIB + 12_345, seed=7)
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("docs")
        await c.put("docs", "big.bin", data)
        request = pb.DownloadRequest(bucket="docs", key="big.bin")
        messages = [m async for m in c.stub.Download(request, metadata=c.metadata)]
        assert messages[0].WhichOneof("payload") == "object"
        assert messages[0].object.size_bytes == len(data)
        assert {m.WhichOneof("payload") for m in messages[1:]} == {"chunk"}
        assert b"".join(m.chunk for m in messages[1:]) == data
        for offset, length in [(0, 1), (MIB - 1, 2), (1, MIB), (MIB + 3, 0), (len(data) - 1, 0)]:
            expected = data[offset : offset + length] if length else data[offset:]
            assert await c.get("docs", "big.bin", offset, length) == expected, (offset, length)
