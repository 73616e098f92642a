"""The SSRF guard: outbound URLs may only reach public HTTP(S) addresses.

The host is resolved once; every address it resolves to must be public (not loopback, private,
link-local, multicast, reserved, unspecified, shared or a cloud metadata address), and the
request is then made to the checked address itself with the original Host header and TLS server
name, so a second DNS answer (rebinding) cannot redirect it. Hosts written as a bare number
(`2130706433`), in octal or hex (`0177.0.0.1`, `0x7f.1`) are decoded the way C resolvers do
before the check. An allow-list of hosts, addresses and CIDR ranges admits internal targets.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Resolver", "SsrfGuard", "SsrfRefused", "Target", "parse_legacy_ipv4", "system_resolver"]

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Resolves a host name and port to IP address strings."""

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_METADATA = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("169.254.170.2"),
    ipaddress.ip_address("100.100.100.200"),
    ipaddress.ip_address("fd00:ec2::254"),
}
_SHARED = ipaddress.ip_network("100.64.0.0/10")


class SsrfRefused(Exception):
    """An outbound URL was refused; the message says why (never the full URL)."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`) and what to present (`host`)."""

    url: str
    scheme: str
    host: str
    port: int
    address: str

    @property
    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if ":" in self.address else self.address
        netloc = f"{literal}:{self.port}"
        return parts._replace(netloc=netloc).geturl()

    @property
    def host_header(self) -> str:
        """The Host header value of the original URL."""
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolves through the operating system (getaddrinfo) without blocking the loop."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def parse_legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Decodes inet_aton forms: 1 to 4 parts, each decimal, octal (0...) or hex (0x...)."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(parts):
        return None
    numbers = []
    for part in parts:
        try:
            if part.lower().startswith("0x"):
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part, 8))
            else:
                numbers.append(int(part, 10))
        except ValueError:
            return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    value = value * 256 ** (5 - len(numbers)) + last
    return ipaddress.IPv4Address(value)


def _refused_reason(address: IpAddress) -> str | None:
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return _refused_reason(mapped)
    if address in _METADATA:
        return "a cloud metadata address"
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("shared (CGNAT)", isinstance(address, ipaddress.IPv4Address) and address in _SHARED),
        ("not globally routable", not address.is_global),
    )
    for name, hit in checks:
        if hit:
            return f"a {name} address"
    return None


class SsrfGuard:
    """Checks outbound URLs and pins them to a vetted address."""

    def __init__(self, allow: Sequence[str] = (), resolver: Resolver | None = None) -> None:
        self._resolver = resolver or system_resolver
        self._allow_hosts: set[str] = set()
        self._allow_networks: list[IpNetwork] = []
        for entry in allow:
            try:
                self._allow_networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                self._allow_hosts.add(entry.lower().rstrip("."))

    def _allowed(self, address: IpAddress) -> bool:
        return any(address in network for network in self._allow_networks)

    async def check(self, url: str) -> Target:
        """The vetted target of `url`; raises SsrfRefused when it may not be reached."""
        try:
            parts = urlsplit(url)
            port_given = parts.port
        except ValueError as exc:
            raise SsrfRefused(f"the URL is malformed: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise SsrfRefused(f"the scheme {scheme or '(none)'!r} is not http or https")
        if parts.username or parts.password:
            raise SsrfRefused("URLs with credentials are refused")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise SsrfRefused("the URL has no host")
        port = port_given or (443 if scheme == "https" else 80)
        literal = _literal_address(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                resolved = await self._resolver(host, port)
            except OSError as exc:
                raise SsrfRefused(f"the host does not resolve: {exc}") from None
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolved]
            if not addresses:
                raise SsrfRefused("the host does not resolve")
        host_allowed = host.lower() in self._allow_hosts
        for address in addresses:
            reason = _refused_reason(address)
            if reason and not host_allowed and not self._allowed(address):
                raise SsrfRefused(f"the host resolves to {reason}")
        return Target(url=url, scheme=scheme, host=host, port=port, address=str(addresses[0]))


def _literal_address(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return parse_legacy_ipv4(host)
