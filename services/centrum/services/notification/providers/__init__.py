"""Delivery providers: one module per transport, all behind the `Provider` protocol."""

from centrum.services.notification.providers.base import (
    Delivery,
    Provider,
    ProviderError,
    ProviderResult,
)

__all__ = ["Delivery", "Provider", "ProviderError", "ProviderResult"]
