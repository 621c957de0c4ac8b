"""The client's address, for the login lock-out: the peer's own, unless the peer is one of
CRMHUB_TRUSTED_PROXIES. Then X-Forwarded-For is read from its right end, where each trusted
proxy appended the address it was reached from, past every trusted hop; the first hop that
is not trusted is the client. A client cannot choose its address by sending the header: an
untrusted peer's header is not read, and what a client wrote lies left of the hop its proxy
appended."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

from aiohttp import web

Networks = Sequence[IPv4Network | IPv6Network]


def client_address(request: web.Request, trusted: Networks) -> str:
    peer = request.remote or "unknown"
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [
        _without_port(hop.strip())
        for header in request.headers.getall("X-Forwarded-For", [])
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop[:64]
    return hops[0][:64] if hops else peer  # trusted all the way: the first one named


def _without_port(hop: str) -> str:
    """`1.2.3.4:5678` and `[2001:db8::1]:5678`, as some proxies write them, as addresses."""
    if hop.startswith("["):
        return hop[1:].partition("]")[0]
    host, colon, port = hop.rpartition(":")
    return host if colon and port.isdigit() and "." in host and ":" not in host else hop


def _trusted(address: str, trusted: Networks) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
