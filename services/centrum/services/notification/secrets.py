"""Recipient secrets (webhook headers and signing secret) encrypted under the master key.

They are stored apart from the recipient, bound to the tenant and notification id, and the
stored recipient keeps only the header names.
"""

from __future__ import annotations

import json

from centrum.notification.v1 import notification_pb2
from centrum.services.keys import MasterKey

__all__ = ["RecipientSecrets"]


class RecipientSecrets:
    """Seals and restores the secret parts of a recipient."""

    def __init__(self, master_key: MasterKey) -> None:
        self._key = master_key

    @staticmethod
    def _purpose(tenant: str, notification_id: str) -> bytes:
        return f"notification-recipient:{tenant}:{notification_id}".encode()

    def seal(
        self, tenant: str, notification_id: str, recipient: notification_pb2.Recipient
    ) -> bytes | None:
        """Moves the secrets out of `recipient` (in place) into an encrypted blob."""
        if recipient.WhichOneof("target") != "webhook":
            return None
        webhook = recipient.webhook
        secrets = {"headers": dict(webhook.headers), "signing_secret": webhook.signing_secret}
        for name in list(webhook.headers):
            webhook.headers[name] = ""
        webhook.signing_secret = ""
        if not secrets["headers"] and not secrets["signing_secret"]:
            return None
        return self._key.encrypt(
            json.dumps(secrets).encode(), self._purpose(tenant, notification_id)
        )

    def restore(
        self, tenant: str, notification_id: str, recipient: notification_pb2.Recipient, blob: bytes
    ) -> None:
        """Puts the decrypted secrets back into `recipient`."""
        secrets = json.loads(self._key.decrypt(blob, self._purpose(tenant, notification_id)))
        webhook = recipient.webhook
        for name, value in secrets["headers"].items():
            webhook.headers[name] = value
        webhook.signing_secret = secrets["signing_secret"]
