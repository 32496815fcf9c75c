"""Whose request is it: the client's address, as the rate limits count it.

Behind proxies the address is read from X-Forwarded-For, but only the entries our own proxies
(SHIPWITH_TRUSTED_PROXIES) appended: whatever a client writes in that header itself is never
believed.
"""

import functools
import ipaddress
import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("shipwith.limits")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def trusted_proxies(value: str) -> int | tuple[Network, ...]:
    """Parse SHIPWITH_TRUSTED_PROXIES: a count of proxies in front, or their addresses/CIDRs."""
    value = value.strip()
    if not value:
        return 0
    if value.isdigit():
        return int(value)
    networks = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"SHIPWITH_TRUSTED_PROXIES: {item!r} is neither an address nor a CIDR "
                "(give a count of proxies, e.g. 1, or addresses, e.g. 127.0.0.1,10.0.0.0/8)"
            ) from None
    return tuple(networks)


def trusted_proxies_setting() -> int | tuple[Network, ...]:
    """SHIPWITH_TRUSTED_PROXIES, parsed; ImproperlyConfigured names a bad entry."""
    return trusted_proxies(settings.SHIPWITH_TRUSTED_PROXIES)


@functools.lru_cache(maxsize=4096)  # a hot client's address is parsed once, not per request
def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


_warned = False


def _untrusted_proxy_warn(peer: Address | None) -> None:
    """Say once per process that a proxy seems to be in front but is not trusted."""
    global _warned
    if _warned or peer is None or not (peer.is_loopback or peer.is_private):
        return
    _warned = True
    logger.warning(
        "X-Forwarded-For from %s is ignored: every reader counts as that address in the rate "
        "limits. Behind nginx set SHIPWITH_TRUSTED_PROXIES (e.g. 127.0.0.1).",
        peer,
    )


def _client_address(request) -> Address | None:
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not forwarded:
        return peer
    trusted = trusted_proxies_setting()
    if not trusted:
        _untrusted_proxy_warn(peer)
        return peer
    hops = [_address(part) for part in forwarded.split(",")]
    if isinstance(trusted, int):
        chain = [*hops, peer]  # the last `trusted` entries are the proxies
        return chain[-(trusted + 1)] if len(chain) > trusted else chain[0]
    if peer is None or not any(peer in network for network in trusted):
        return peer  # a client that is not one of our proxies: its header is its own story
    for hop in reversed(hops):
        if hop is None:
            return peer  # garbage where a proxy's entry should be: keep the last proxy we trust
        if not any(hop in network for network in trusted):
            return hop
    return hops[0] if hops else peer


def client_ip(request) -> str:
    """The client's address, as rate limits count it.

    It is REMOTE_ADDR, unless that peer is a trusted proxy (SHIPWITH_TRUSTED_PROXIES): then the
    right-most X-Forwarded-For entry that is not one of ours, the one our own proxy appended.
    Whatever a client writes in that header itself sits further left and is never read. An
    IPv6 client counts as its /64, the block one subscriber gets: not 2^64 separate readers.
    """
    address = _client_address(request)
    if address is None:
        return request.META.get("REMOTE_ADDR", "")
    return _counted_as(address)


@functools.lru_cache(maxsize=4096)  # a hot client's text is made once, not per request
def _counted_as(address: Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
