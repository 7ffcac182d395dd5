"""Which webhook URLs the service will call (server-side request forgery guard).

Refused: schemes other than http and https, URLs with credentials or without a host, and
hosts that resolve to any address that is not public (private, loopback, link-local
including the cloud metadata address 169.254.169.254, multicast, reserved, unspecified,
carrier-grade NAT, IPv4-mapped forms of these), unless the allow-list names the host or
contains the address (entries: host names, addresses or CIDR networks).

Every address a name resolves to is checked, at subscription time and again before every
attempt. A name could still be re-pointed between that check and the connection (DNS
rebinding); deployments that need more put an egress proxy in front (docs/integration.md).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class UrlRefused(ValueError):
    """The URL may not be called; the message says why."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (getaddrinfo)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _allow_list(entries: Sequence[str]) -> tuple[set[str], list[Network]]:
    names: set[str] = set()
    networks: list[Network] = []
    for entry in entries:
        value = entry.strip().lower().strip("[]")
        if not value:
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            names.add(value.rstrip("."))
    return names, networks


def _kind(address: Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _kind(address.ipv4_mapped)
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("unspecified", address.is_unspecified),
        ("shared (carrier-grade NAT)", address in _CGNAT),
        ("not global", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def check_url(url: str, *, allowed: Sequence[str], resolve: Resolver = system_resolver) -> None:
    """Return when `url` may be called, else raise `UrlRefused`."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise UrlRefused(f"not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise UrlRefused("only http and https URLs are allowed")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("URLs with credentials are not allowed")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UrlRefused("the URL has no host")
    names, networks = _allow_list(allowed)
    if host in names:
        return
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            resolved = resolve(host, port or (443 if parts.scheme == "https" else 80))
        except (OSError, UnicodeError):
            raise UrlRefused(f"the host {host} cannot be resolved") from None
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolved]
    if not addresses:
        raise UrlRefused(f"the host {host} cannot be resolved")
    for address in addresses:
        if any(address in network for network in networks):
            continue
        kind = _kind(address)
        if kind is not None:
            raise UrlRefused(
                f"{host} resolves to {address}, a {kind} address; "
                "only public addresses are allowed unless DECLASS_WEBHOOK_ALLOWED_HOSTS names it"
            )
