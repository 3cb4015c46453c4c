"""Where a webhook may be sent: to the internet, not to us.

A webhook URL is chosen by an agency admin, and the dispatcher POSTs signed requests to it and
logs the status code: without a check that is a way to reach this host, its private network and
the cloud's metadata service (``169.254.169.254``), and a port scanner. So a destination must be a
public (globally routable) address, checked twice:

- at registration (:meth:`EgressPolicy.refusal`): the host as written (``localhost``, ``[::1]``,
  ``2130706433``, ``0x7f.1`` and the other spellings of an address are parsed as the resolver
  would) and every address its name resolves to now;
- at delivery (:class:`GuardedAdapter`): the name is resolved again, every address checked, and
  the connection made to the address that was checked, so a name that resolves elsewhere since
  (DNS rebinding) is refused too. Redirects are not followed, and no proxy from the environment
  is used (the connection would go to the proxy, unchecked).

An operator allows on-premise receivers with ``NOTIFIKASI_WEBHOOK_ALLOW``: comma-separated IP
addresses, networks (CIDR) and host names (exact, case-insensitive); an allowed name may resolve
to any address, an address in an allowed network is accepted whatever the name.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class DestinationRefused(Exception):
    """The webhook's destination is not allowed (a private, loopback or link-local address)."""


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any form a resolver accepts: dotted, ``127.1``, a 32-bit
    integer (``2130706433``), hex or octal parts (``0x7f.0.0.1``), an IPv6 literal; else None."""
    host = host.strip().strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))  # what getaddrinfo accepts too
    except (OSError, ValueError):
        return None


def _effective(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


@dataclass(frozen=True)
class EgressPolicy:
    networks: tuple = ()
    hosts: frozenset = field(default_factory=frozenset)
    resolve: Callable[[str, int], list[str]] | None = None

    @classmethod
    def from_config(cls, allow: str | None) -> "EgressPolicy":
        networks, hosts = [], set()
        for item in (allow or "").split(","):
            item = item.strip()
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    def addresses(self, host: str, port: int) -> list[str]:
        if self.resolve is not None:
            return self.resolve(host, port)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(info[4][0] for info in infos))

    def host_allowed(self, host: str) -> bool:
        return host.lower().strip("[]").rstrip(".") in self.hosts

    def address_refusal(self, address: str | IPAddress) -> str | None:
        ip = _effective(ipaddress.ip_address(str(address).split("%", 1)[0]))
        if any(ip in net for net in self.networks if net.version == ip.version):
            return None
        if not ip.is_global or ip.is_multicast:
            return f"{ip} is not a public address (loopback, private, link-local or reserved)"
        return None

    def refusal(self, url: str, *, resolve: bool = True) -> str | None:
        """Why a webhook may not be registered for ``url``; None when it may."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            return f"not a URL: {exc}"
        if parts.scheme not in ("http", "https") or not host:
            return "an http(s) URL with a host is needed"
        if parts.username or parts.password:
            return "credentials in the URL are not allowed (the signature authenticates deliveries)"
        if self.host_allowed(host):
            return None
        literal = literal_address(host)
        if literal is not None:
            reason = self.address_refusal(literal)
            return f"the webhook's host {host}: {reason}" if reason else None
        if host.lower().rstrip(".") in LOCAL_NAMES or host.lower().rstrip(".").endswith(".localhost"):
            return f"the webhook's host {host} is this machine"
        if not resolve:
            return None
        try:
            found = self.addresses(host, port)
        except (OSError, UnicodeError):
            return None  # does not resolve now: checked again, resolved, at each delivery
        for address in found:
            reason = self.address_refusal(address)
            if reason:
                return f"the webhook's host {host} resolves to {reason}"
        return None

    def checked_address(self, host: str, port: int) -> str:
        """The address to connect to for ``host``: resolved now, every address it has checked;
        DestinationRefused when any is not allowed (a name may not point inwards at all)."""
        literal = literal_address(host)
        if literal is not None:
            if not self.host_allowed(host):
                reason = self.address_refusal(literal)
                if reason:
                    raise DestinationRefused(reason)
            return str(literal)
        try:
            found = self.addresses(host, port)
        except OSError as exc:
            raise DestinationRefused(f"{host} does not resolve: {exc}") from None
        if not found:
            raise DestinationRefused(f"{host} does not resolve")
        if not self.host_allowed(host):
            for address in found:
                reason = self.address_refusal(address)
                if reason:
                    raise DestinationRefused(f"{host} resolves to {reason}")
        return found[0]


class _Guarded:
    """A urllib3 connection that connects only to an address its policy checked."""

    egress: EgressPolicy

    def _new_conn(self):
        host = self._dns_host
        address = self.egress.checked_address(host, self.port)
        # connect to the checked address; the Host header and TLS (SNI, certificate) keep the name
        self._dns_host = address
        try:
            return super()._new_conn()
        finally:
            self._dns_host = host


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections go only where ``egress`` allows."""

    def __init__(self, egress: EgressPolicy, **kw):
        self.egress = egress
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        super().init_poolmanager(*args, **kw)
        http_conn = type("GuardedHTTPConnection", (_Guarded, HTTPConnection), {"egress": self.egress})
        https_conn = type("GuardedHTTPSConnection", (_Guarded, HTTPSConnection), {"egress": self.egress})
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }
