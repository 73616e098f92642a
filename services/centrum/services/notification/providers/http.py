"""HTTP providers: signed webhooks and push in FCM HTTP v1 format.

Every request goes through the SSRF guard and is sent to the address the guard vetted (Host
header and TLS server name kept), so DNS rebinding cannot redirect it. Redirects are not
followed. 429 and 5xx are retryable, other non-2xx answers permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from centrum.notification.v1 import notification_pb2
from centrum.services.notification.providers.base import Delivery, ProviderError, ProviderResult
from centrum.services.notification.rendering import value_to_python
from centrum.services.notification.ssrf import SsrfGuard, SsrfRefused

__all__ = ["FcmProvider", "WebhookProvider", "sign_webhook", "verify_webhook"]


def sign_webhook(secret: bytes, body: bytes, timestamp: int) -> str:
    """The `Centrum-Signature` header value: `t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_webhook(
    secret: bytes, body: bytes, header: str, *, tolerance_s: float = 300, now: float | None = None
) -> bool:
    """Tells whether `header` signs `body` with `secret` within `tolerance_s` of now."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = sign_webhook(secret, body, timestamp).rpartition("v1=")[2]
    return hmac.compare_digest(expected, fields.get("v1", ""))


class _PinnedPoster:
    """POSTs to a URL after the SSRF guard vetted it, connecting to the vetted address."""

    def __init__(self, guard: SsrfGuard, timeout_s: float) -> None:
        self._guard = guard
        self._client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
        try:
            target = await self._guard.check(url)
        except SsrfRefused as exc:
            raise ProviderError(
                f"refused by the SSRF guard: {exc}", code="ssrf", permanent=True
            ) from None
        extensions: dict[str, Any] = {}
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host
        try:
            response = await self._client.post(
                target.pinned_url,
                content=body,
                headers={**headers, "Host": target.host_header},
                extensions=extensions,
            )
        except httpx.HTTPError as exc:
            raise ProviderError(f"{type(exc).__name__}: {exc}", code="connection") from None
        if response.is_success:
            return response
        status = response.status_code
        raise ProviderError(
            f"HTTP {status}: {response.text[:200]}",
            code=str(status),
            permanent=not (status == 429 or status == 408 or status >= 500),
        )

    async def close(self) -> None:
        await self._client.aclose()


class WebhookProvider:
    """POSTs the notification's JSON data, signed with HMAC-SHA256 and a timestamp."""

    name = "webhook"

    def __init__(
        self,
        guard: SsrfGuard,
        *,
        timeout_s: float,
        default_secret: bytes | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._poster = _PinnedPoster(guard, timeout_s)
        self._default_secret = default_secret
        self._clock = clock

    async def send(self, delivery: Delivery) -> ProviderResult:
        """Signs and posts the body; the receiver's status decides the outcome."""
        target = delivery.recipient.webhook
        secret = target.signing_secret.encode() or self._default_secret
        if not secret:
            raise ProviderError("no webhook signing secret is configured", permanent=True) from None
        data = value_to_python(delivery.content.data) if delivery.content.HasField("data") else None
        body = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            **dict(target.headers),
            "Content-Type": "application/json",
            "User-Agent": "centrum-webhooks/1",
            "Centrum-Notification-Id": delivery.notification_id,
            "Centrum-Signature": sign_webhook(secret, body, int(self._clock())),
        }
        response = await self._poster.post(target.url, body, headers)
        return ProviderResult(
            message_id=response.headers.get("x-request-id", ""),
            response_code=str(response.status_code),
            response_message=response.text[:200],
        )

    async def close(self) -> None:
        """Closes the HTTP client."""
        await self._poster.close()


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def fcm_message(delivery: Delivery) -> dict[str, Any]:
    """The FCM HTTP v1 `message` object of a push notification."""
    target = delivery.recipient.push
    content = delivery.content
    message: dict[str, Any] = {"token": target.device_token}
    if content.subject or content.text:
        message["notification"] = {"title": content.subject, "body": content.text}
    if content.HasField("data"):
        data = value_to_python(content.data)
        if isinstance(data, dict):
            message["data"] = {
                k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()
            }
    high = delivery.priority == notification_pb2.PRIORITY_HIGH
    if target.platform == notification_pb2.PUSH_PLATFORM_ANDROID:
        message["android"] = {"priority": "high" if high else "normal"}
    elif target.platform == notification_pb2.PUSH_PLATFORM_IOS:
        message["apns"] = {"headers": {"apns-priority": "10" if high else "5"}}
    elif target.platform == notification_pb2.PUSH_PLATFORM_WEB:
        message["webpush"] = {"headers": {"Urgency": "high" if high else "normal"}}
    return _merge(message, delivery.overrides.get("fcm") or {})


class FcmProvider:
    """Sends push messages to an FCM HTTP v1 `messages:send` endpoint."""

    name = "fcm"

    def __init__(self, guard: SsrfGuard, *, url: str, token: str | None, timeout_s: float) -> None:
        self._poster = _PinnedPoster(guard, timeout_s)
        self._url = url
        self._token = token

    async def send(self, delivery: Delivery) -> ProviderResult:
        """Posts `{"message": ...}`; FCM's message name is the provider message id."""
        body = json.dumps({"message": fcm_message(delivery)}).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        response = await self._poster.post(self._url, body, headers)
        try:
            name = str(response.json().get("name", ""))
        except ValueError:
            name = ""
        return ProviderResult(message_id=name, response_code=str(response.status_code))

    async def close(self) -> None:
        """Closes the HTTP client."""
        await self._poster.close()
