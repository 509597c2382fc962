"""Client addresses of drill events: stored as the organization's privacy setting says, matched to CIDR lists."""

import functools
import ipaddress
from collections.abc import Iterable

from mamori.core.models import Organization

Policy = Organization.AddressPolicy
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Truncation keeps the network, not the host: an office's /24, a site's /48.
IPV4_KEPT = ~((1 << (32 - 24)) - 1) & ((1 << 32) - 1)
IPV6_KEPT = ~((1 << (128 - 48)) - 1) & ((1 << 128) - 1)


def parse_address(address: str) -> IPAddress | None:
    """The address as an IPv4 or IPv6 address (IPv4-mapped IPv6 as IPv4); None when it is not one."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def truncated(parsed: IPAddress) -> str:
    """``192.0.2.77`` → ``192.0.2.0``; ``2001:db8:1:2::5`` → ``2001:db8:1::``."""
    if parsed.version == 4:
        return str(ipaddress.IPv4Address(int(parsed) & IPV4_KEPT))
    return str(ipaddress.IPv6Address(int(parsed) & IPV6_KEPT))


def stored_form(parsed: IPAddress | None, policy: str) -> str:
    """What an event may keep of an address under ``policy``: all of it, its network, or nothing.

    Anything that is not an IP address (a proxy's odd header) is not stored at all.
    """
    if parsed is None or policy == Policy.NONE:
        return ""
    if policy == Policy.FULL:
        return str(parsed)
    return truncated(parsed)


def stored_address(address: str, policy: str) -> str:
    return stored_form(parse_address(address), policy)


@functools.cache
def networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """Parsed once per process: the settings' lists do not change while it runs."""
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def in_networks(parsed: IPAddress | None, cidrs: Iterable[str]) -> bool:
    if parsed is None:
        return False
    return any(parsed in network for network in networks(tuple(cidrs)) if network.version == parsed.version)
