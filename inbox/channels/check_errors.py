"""What a channel check says when the platform could not be asked at all.

"Telegram refused the token" must mean Telegram answered and refused it. When no answer
came (no route, DNS failure, connection refused, a timeout) the admin is told that instead,
naming the host, in their language; the adapters keep their own messages for refusals.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from crm.errors import ExternalError
from crm.i18n import N_

__all__ = ["NO_NETWORK", "TIMED_OUT", "host_of", "network_error", "unreachable"]

NO_NETWORK = N_(
    "No connection to {host}: check the network, DNS and proxy of the machine crmhub runs "
    "on ({reason})"
)
TIMED_OUT = N_("{host} did not answer in time: check the network of the machine crmhub runs on")
# How aiohttp (also inside aiogram's messages) and requests name a connection never made.
_CONNECT_MARKERS = (
    "ClientConnectorError",
    "ClientConnectorDNSError",
    "Cannot connect to host",
    "Name or service not known",
    "Temporary failure in name resolution",
    "Connection refused",
    "Network is unreachable",
    "No route to host",
    "Max retries exceeded",
    "Failed to resolve",
    "NameResolutionError",
    "NewConnectionError",
)
_TIMEOUT_MARKERS = ("timeout", "timed out", "TimeoutError")


def host_of(url_or_host: str) -> str:
    """`api.telegram.org` of `https://api.telegram.org/...`; a bare host stays as it is."""
    if "//" not in url_or_host:
        return url_or_host
    parts = urlsplit(url_or_host)
    return parts.netloc or url_or_host


def unreachable(host: str, reason: str) -> ExternalError:
    return ExternalError(NO_NETWORK, code="channel_unreachable", host=host_of(host), reason=reason)


def network_error(reason: str, host: str) -> ExternalError | None:
    """An ExternalError saying no answer came from `host`, when `reason` (an exception's
    text) says so; None for any other failure (the caller reports it its own way)."""
    if any(marker in reason for marker in _CONNECT_MARKERS):
        return unreachable(host, reason)
    lowered = reason.lower()
    if any(marker.lower() in lowered for marker in _TIMEOUT_MARKERS):
        return ExternalError(TIMED_OUT, code="channel_timeout", host=host_of(host))
    return None
