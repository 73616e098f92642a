"""The SSRF guard: which outbound URLs are refused, and how an allowed one is pinned."""

from __future__ import annotations

import pytest

from centrum.services.notification.ssrf import SsrfGuard, SsrfRefused, parse_legacy_ipv4


def _resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"{host} does not resolve")
        return table[host]

    return resolve


PUBLIC = _resolver(
    {
        "hooks.example.com": ["93.184.216.34"],
        "internal.example.com": ["10.1.2.3"],
        "mixed.example.com": ["93.184.216.34", "192.168.1.10"],
        "v6.example.com": ["2606:4700::1111"],
    }
)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://10.0.0.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[::1]:8080/", "loopback"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://2130706433/", "loopback"),
        ("http://0177.0.0.1/", "loopback"),
        ("http://0x7f.0.0.1/", "loopback"),
        ("http://0x7f000001/", "loopback"),
        ("http://127.1/", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
        ("http://100.64.0.1/", "shared"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[fe80::1]/", "link-local"),
        ("http://internal.example.com/", "private"),
        ("http://mixed.example.com/", "private"),
        ("ftp://hooks.example.com/", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://hooks.example.com/", "scheme"),
        ("http://user:pw@hooks.example.com/", "credentials"),
        ("http://nowhere.example.com/", "resolve"),
    ],
)
async def test_refuses_non_public_targets(url: str, why: str) -> None:
    """Loopback, private, link-local, multicast, reserved, unspecified, metadata, encoded
    loopback forms, names resolving to private addresses and non-HTTP schemes are refused."""
    with pytest.raises(SsrfRefused) as refused:
        await SsrfGuard(resolver=PUBLIC).check(url)
    assert why in str(refused.value)


async def test_localhost_is_refused_through_the_real_resolver() -> None:
    """`localhost` resolves (through the operating system) to loopback and is refused."""
    with pytest.raises(SsrfRefused, match="loopback"):
        await SsrfGuard().check("http://localhost:9/")


async def test_public_host_is_pinned_to_the_checked_address() -> None:
    """A public host passes and the request goes to the vetted address with the original Host,
    so a later DNS answer cannot redirect it (rebinding)."""
    target = await SsrfGuard(resolver=PUBLIC).check("https://hooks.example.com/a?b=1")
    assert target.pinned_url == "https://93.184.216.34:443/a?b=1"
    assert (target.host_header, target.host) == ("hooks.example.com", "hooks.example.com")
    v6 = await SsrfGuard(resolver=PUBLIC).check("http://v6.example.com:8080/x")
    assert v6.pinned_url == "http://[2606:4700::1111]:8080/x"
    assert v6.host_header == "v6.example.com:8080"


async def test_allow_list_admits_networks_and_hosts() -> None:
    """CIDR ranges and host names on the allow-list pass; other private targets still fail."""
    guard = SsrfGuard(["127.0.0.0/8", "internal.example.com"], resolver=PUBLIC)
    assert (await guard.check("http://127.0.0.1:8080/")).address == "127.0.0.1"
    assert (await guard.check("http://internal.example.com/")).address == "10.1.2.3"
    with pytest.raises(SsrfRefused):
        await guard.check("http://10.0.0.1/")


def test_legacy_ipv4_forms_decode_like_inet_aton() -> None:
    """Decimal, octal, hex and short dotted forms decode as C resolvers read them."""
    assert str(parse_legacy_ipv4("2130706433")) == "127.0.0.1"
    assert str(parse_legacy_ipv4("017700000001")) == "127.0.0.1"
    assert str(parse_legacy_ipv4("10.1")) == "10.0.0.1"
    assert str(parse_legacy_ipv4("192.168.257")) == "192.168.1.1"
    assert parse_legacy_ipv4("hooks.example.com") is None
    assert parse_legacy_ipv4("1.2.3.4.5") is None
    assert parse_legacy_ipv4("256.1.1.1") is None
