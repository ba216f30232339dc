"""Who sent a request: the peer address, or the proxy-reported one when the peer is trusted."""

from __future__ import annotations

from typing import Any

from litestar import Request

from apps.kernel.settings import get_settings


def client_ip(request: Request[Any, Any, Any]) -> str:
    """The peer address, or the nearest X-Forwarded-For hop when the peer is a trusted proxy.

    Only peers in FORWARDED_ALLOW_IPS (the load balancer; `*` for any) are believed, so a
    client cannot pick its own address for rate limits by sending the header itself.
    """
    peer = request.client.host if request.client else "unknown"
    trusted = get_settings().forwarded_allow_ips
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and ("*" in trusted or peer in trusted):
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        untrusted = [hop for hop in hops if hop not in trusted]
        if untrusted:
            return untrusted[-1][:64]
    return peer
