"""Credentials a call presents: a bearer token or an API key, as call metadata."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CallCredentials"]


@dataclass(frozen=True, slots=True)
class CallCredentials:
    """A static bearer token or API key attached to every call."""

    token: str | None = None
    api_key: str | None = None

    def __post_init__(self) -> None:
        if self.token and self.api_key:
            raise ValueError("pass either a token or an API key, not both")

    def __repr__(self) -> str:
        kind = "token" if self.token else "api_key" if self.api_key else "none"
        return f"CallCredentials({kind}=<redacted>)"

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """The metadata pairs that carry the credential."""
        if self.token:
            return (("authorization", f"Bearer {self.token}"),)
        if self.api_key:
            return (("x-api-key", self.api_key),)
        return ()
