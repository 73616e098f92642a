"""Settings of the notification service (the `notification` table of Centrum's settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["ChannelName", "NotificationSettings", "ProviderName"]

ChannelName = Literal["email", "sms", "push", "webhook"]
ProviderName = Literal["smtp", "maildir", "ses", "sns", "fcm", "webhook"]


class NotificationSettings(BaseModel):
    """Settings of the notification service; `CENTRUM_NOTIFICATION__<FIELD>` in the environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Run the dispatch workers inside `centrum serve`; false leaves dispatch to `centrum worker`.
    dispatch_enabled: bool = True
    # Notifications one process hands to providers concurrently.
    worker_concurrency: int = Field(default=8, ge=1, le=256)
    # Notifications claimed per database round trip.
    claim_batch: int = Field(default=16, ge=1, le=500)
    # Seconds a claim stays valid; a worker that dies mid-send loses its claim after this long
    # and another worker sends the notification. Keep it well above the provider timeouts.
    lease_s: float = Field(default=60.0, gt=0)
    # Seconds an idle worker waits before looking for due notifications again.
    poll_interval_s: float = Field(default=0.5, gt=0)
    # Dispatch rounds before a notification becomes DEAD.
    max_attempts: int = Field(default=8, ge=1, le=100)
    # Back-off before round n+1: min(max, base * 2**(n-1)), the upper `jitter` share random.
    backoff_base_s: float = Field(default=2.0, gt=0)
    backoff_max_s: float = Field(default=3600.0, gt=0)
    backoff_jitter: float = Field(default=0.5, ge=0, le=1)
    # Seconds an idempotency key is remembered.
    idempotency_window_s: float = Field(default=86400.0, gt=0)

    # Delivery providers per channel, tried in order within one round (the later ones are the
    # fallbacks). Unset channels use: email smtp (with smtp_url) else maildir; sms sns (with
    # aws_endpoint_url or aws_region set) else maildir; push fcm (with fcm_url) else maildir;
    # webhook webhook.
    providers: dict[ChannelName, list[ProviderName]] = Field(default_factory=dict)
    # Directory of the local outbox (maildir) provider; unset means data_dir/outbox.
    maildir_path: Path | None = None
    # From address of emails when Send names no sender; senders must be of one of the
    # sender_domains (unset means the domain of default_sender).
    default_sender: str = "centrum@localhost"
    sender_domains: list[str] = Field(default_factory=list)
    # Seconds an SMTP, HTTP or AWS call may take before it counts as a retryable failure.
    provider_timeout_s: float = Field(default=15.0, gt=0)
    # Seconds a webhook or push POST may take.
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    # Outbound URLs to these hosts, IP addresses or CIDR ranges skip the SSRF guard (tests and
    # internal hooks only).
    ssrf_allow: list[str] = Field(default_factory=list)

    # AWS SES v2 (email) and SNS (SMS): endpoint (e.g. a moto_server), region and credentials;
    # unset credentials use boto3's default chain.
    aws_endpoint_url: str | None = None
    aws_region: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    # Default SNS sender id for SMS when the recipient names none.
    sms_sender_id: str = ""

    # The FCM HTTP v1 `messages:send` URL and the bearer token of the push provider.
    fcm_url: str | None = None
    fcm_token: SecretStr | None = None
    # Signing secret of webhooks whose recipient gives none.
    webhook_secret: SecretStr | None = None
    # Base of the unsubscribe links templates see as `centrum.unsubscribe_url` (the token is
    # appended as `?token=`); unset leaves the link empty.
    unsubscribe_base_url: str = ""
