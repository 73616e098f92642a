"""Round trips through every real backend the harness provides (tests/harness/backends.py)."""

from __future__ import annotations

import base64
import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path

import psycopg
import pytest
import redis
import redis.exceptions

from harness.backends import (
    BackendError,
    MessageCapture,
    OpenBaoTarget,
    PrivateRedisFactory,
    RedisTarget,
    S3Target,
    SmtpServer,
    libpq_url,
    wait_for,
)


def test_redis_set_get_within_test_prefix(redis_url: RedisTarget) -> None:
    """A value SET through redis-py under the test's prefix is read back by GET."""
    client = redis.Redis.from_url(redis_url.url)
    try:
        key = redis_url.key("greeting")
        assert key.startswith(redis_url.prefix)
        client.set(key, b"hello", ex=60)
        assert client.get(key) == b"hello"
    finally:
        client.close()


def test_private_redis_can_be_stopped_and_restarted(private_redis: PrivateRedisFactory) -> None:
    """A private server refuses connections while stopped and serves again (empty, same URL)
    after start: no persistence survives the restart."""
    server = private_redis()
    url = server.url
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.set("survives", "no")
        server.stop()
        assert not server.running()
        with pytest.raises(redis.exceptions.ConnectionError):
            client.ping()
        server.start()
        assert server.url == url
        assert client.ping() is True
        assert client.get("survives") is None
    finally:
        client.close()


def test_postgres_fresh_database_round_trip(postgres_url: str) -> None:
    """The session database is a fresh ``centrum_test_*`` database that accepts DDL and DML."""
    assert postgres_url.startswith("postgresql+psycopg://")
    with psycopg.connect(libpq_url(postgres_url)) as conn:
        row = conn.execute("SELECT current_database()").fetchone()
        assert row is not None
        assert row[0].startswith("centrum_test_")
        conn.execute("CREATE TABLE harness_probe (id int PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO harness_probe VALUES (%s, %s), (%s, %s)", (1, "a", 2, "b"))
        rows = conn.execute("SELECT id, name FROM harness_probe ORDER BY id").fetchall()
        conn.rollback()
    assert rows == [(1, "a"), (2, "b")]


def test_openbao_transit_encrypt_decrypt(openbao: OpenBaoTarget) -> None:
    """Transit encrypts to a versioned ciphertext that decrypts back to the plaintext."""
    client = openbao.client()
    key = f"harness-{uuid.uuid4().hex[:8]}"
    plaintext = base64.b64encode(b"centrum secret").decode()
    client.secrets.transit.create_key(name=key)
    ciphertext = client.secrets.transit.encrypt_data(name=key, plaintext=plaintext)["data"][
        "ciphertext"
    ]
    assert ciphertext.startswith("vault:v1:")
    assert plaintext not in ciphertext
    decrypted = client.secrets.transit.decrypt_data(name=key, ciphertext=ciphertext)["data"][
        "plaintext"
    ]
    assert base64.b64decode(decrypted) == b"centrum secret"


def test_openbao_kv_v2_write_read(openbao: OpenBaoTarget) -> None:
    """A KV v2 secret written under ``secret/`` reads back with its data at version 1."""
    client = openbao.client()
    path = f"harness/{uuid.uuid4().hex[:8]}"
    client.secrets.kv.v2.create_or_update_secret(
        path=path, secret={"user": "svc", "password": "pw"}, mount_point="secret"
    )
    read = client.secrets.kv.v2.read_secret_version(
        path=path, mount_point="secret", raise_on_deleted_version=True
    )
    assert read["data"]["data"] == {"user": "svc", "password": "pw"}
    assert read["data"]["metadata"]["version"] == 1


def test_s3_bucket_put_get(s3_endpoint: S3Target) -> None:
    """An object put into a freshly created bucket on moto is read back byte for byte."""
    client = s3_endpoint.client()
    bucket = f"centrum-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key="dir/object.bin", Body=b"\x00payload\xff")
    body = client.get_object(Bucket=bucket, Key="dir/object.bin")["Body"].read()
    assert body == b"\x00payload\xff"
    names = [b["Name"] for b in client.list_buckets()["Buckets"]]
    assert bucket in names


def test_smtp_message_is_captured(smtp_server: SmtpServer, smtp_capture: MessageCapture) -> None:
    """A message sent with smtplib is recorded with its envelope sender, recipients and body."""
    assert smtp_capture.messages() == []
    message = EmailMessage()
    message["From"] = "noreply@centrum.test"
    message["To"] = "alice@example.test"
    message["Subject"] = "Harness probe"
    message.set_content("hello from the harness")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as smtp:
        smtp.send_message(message, to_addrs=["alice@example.test", "bob@example.test"])
    [captured] = smtp_capture.wait_for_messages(1, timeout=5)
    assert captured.mail_from == "noreply@centrum.test"
    assert captured.rcpt_tos == ("alice@example.test", "bob@example.test")
    assert b"Subject: Harness probe" in captured.content
    assert b"hello from the harness" in captured.content


def test_wait_for_timeout_names_condition_and_log(tmp_path: Path) -> None:
    """``wait_for`` gives up at its deadline with an error naming the condition and the log."""
    log = tmp_path / "backend.log"
    log.write_text("line one\nfatal: could not bind\n")
    with pytest.raises(BackendError) as excinfo:
        wait_for(lambda: False, timeout=0.2, what="the impossible", log=log)
    text = str(excinfo.value)
    assert "the impossible" in text
    assert str(log) in text
    assert "fatal: could not bind" in text
