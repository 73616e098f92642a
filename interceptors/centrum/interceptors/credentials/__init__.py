"""Verifiers for the auth step: JWTs, API keys and TLS client certificates, plus revocation."""

from centrum.interceptors.credentials.api_key import ApiKeyLookup, ApiKeyVerifier
from centrum.interceptors.credentials.composite import CredentialVerifier
from centrum.interceptors.credentials.jwt import JwtVerifier, KeySource, StaticKeySource
from centrum.interceptors.credentials.mtls import IdentityLookup, MtlsVerifier
from centrum.interceptors.credentials.revocation import (
    MemoryRevocations,
    RedisRevocations,
    RevocationChecker,
)

__all__ = [
    "ApiKeyLookup",
    "ApiKeyVerifier",
    "CredentialVerifier",
    "IdentityLookup",
    "JwtVerifier",
    "KeySource",
    "MemoryRevocations",
    "MtlsVerifier",
    "RedisRevocations",
    "RevocationChecker",
    "StaticKeySource",
]
