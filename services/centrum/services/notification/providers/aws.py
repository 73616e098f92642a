"""AWS SES v2 for email and SNS for SMS, through boto3 run in worker threads.

The endpoint URL is configurable, so moto_server or LocalStack stand in for AWS in tests.
Throttling, 5xx and connection errors are retryable; other client errors are permanent.
"""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from centrum.notification.v1 import notification_pb2
from centrum.services.notification.providers.base import Delivery, ProviderError, ProviderResult
from centrum.services.notification.providers.email import build_email, envelope_recipients

__all__ = ["AwsClients", "SesProvider", "SnsProvider"]

_RETRYABLE_CODES = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalError",
    "RequestTimeout",
}


class AwsClients:
    """Builds boto3 clients for one endpoint, region and credential set."""

    def __init__(
        self,
        *,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        timeout_s: float,
    ) -> None:
        self._session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
        )
        self._endpoint_url = endpoint_url
        self._config = Config(
            connect_timeout=timeout_s, read_timeout=timeout_s, retries={"max_attempts": 1}
        )

    def client(self, service: str) -> Any:
        """A boto3 client of `service` (e.g. "sesv2", "sns")."""
        return self._session.client(service, endpoint_url=self._endpoint_url, config=self._config)


def _failure(exc: Exception) -> ProviderError:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "ClientError"))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        retryable = code in _RETRYABLE_CODES or status >= 500 or status == 429
        return ProviderError(str(error.get("Message", exc)), code=code, permanent=not retryable)
    return ProviderError(f"{type(exc).__name__}: {exc}", code="connection")


class SesProvider:
    """Sends email as a raw MIME message through SES v2 SendEmail."""

    name = "ses"

    def __init__(self, clients: AwsClients, *, default_sender: str) -> None:
        self._client = clients.client("sesv2")
        self._default_sender = default_sender

    async def send(self, delivery: Delivery) -> ProviderResult:
        """Calls SendEmail with the raw message (overrides["ses"]["configuration_set"] applies)."""
        message = build_email(delivery, self._default_sender)
        target = delivery.recipient.email
        extra = dict(delivery.overrides.get("ses") or {})
        request: dict[str, Any] = {
            "FromEmailAddress": target.sender.address or self._default_sender,
            "Destination": {"ToAddresses": envelope_recipients(target)},
            "Content": {"Raw": {"Data": message.as_bytes()}},
        }
        if "configuration_set" in extra:
            request["ConfigurationSetName"] = str(extra.pop("configuration_set"))
        try:
            response = await asyncio.to_thread(self._client.send_email, **request)
        except (ClientError, BotoCoreError) as exc:
            raise _failure(exc) from None
        return ProviderResult(message_id=str(response.get("MessageId", "")), response_code="200")

    async def close(self) -> None:
        """boto3 clients need no closing."""


class SnsProvider:
    """Sends SMS through SNS Publish to a phone number."""

    name = "sns"

    def __init__(self, clients: AwsClients, *, default_sender_id: str) -> None:
        self._client = clients.client("sns")
        self._default_sender_id = default_sender_id

    async def send(self, delivery: Delivery) -> ProviderResult:
        """Publishes the text; high priority is sent as a transactional SMS."""
        target = delivery.recipient.sms
        attributes: dict[str, Any] = {
            "AWS.SNS.SMS.SMSType": {
                "DataType": "String",
                "StringValue": "Transactional"
                if delivery.priority == notification_pb2.PRIORITY_HIGH
                else "Promotional",
            }
        }
        sender_id = target.sender_id or self._default_sender_id
        if sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
        try:
            response = await asyncio.to_thread(
                self._client.publish,
                PhoneNumber=target.phone_number,
                Message=delivery.content.text,
                MessageAttributes=attributes,
            )
        except (ClientError, BotoCoreError) as exc:
            raise _failure(exc) from None
        return ProviderResult(message_id=str(response.get("MessageId", "")), response_code="200")

    async def close(self) -> None:
        """boto3 clients need no closing."""
