"""Who the client is: one identity for the API throttle, the submission limits,
the login lockout and the logs.

Behind TRUSTED_PROXY_COUNT reverse proxies, the client is the address the
outermost of them saw (the N-th from the right of X-Forwarded-For), the only one
a client cannot forge; with 0 proxies, REMOTE_ADDR. An IPv6 client is its /64
network: one subscriber line or one host owns a whole /64 and could otherwise
take a new address for every request.
"""

import ipaddress

from django.conf import settings

IPV6_PREFIX = 64


def forwarded_address(request) -> str | None:
    """Return the connection's address, or behind trusted proxies the address
    the outermost one saw."""
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [
        address.strip()
        for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if address.strip()
    ]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def client_ip(request) -> str | None:
    """Return the client's identity as an address: the IPv4 address, or the
    first address of the IPv6 /64 network (django-axes stores it as an address).
    An unparsable value is returned as it is (it can only come from a proxy)."""
    address = forwarded_address(request)
    if not address:
        return address
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6 and parsed.ipv4_mapped:
        return str(parsed.ipv4_mapped)
    if parsed.version == 6:
        network = ipaddress.IPv6Network((parsed, IPV6_PREFIX), strict=False)
        return str(network.network_address)
    return str(parsed)
