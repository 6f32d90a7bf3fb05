"""Operator rules on where HTTP tasks may connect: `LANNER_HTTP_ALLOW` and `LANNER_HTTP_DENY`.

Each variable holds rules separated by commas: a host name (`api.example.com`), every
subdomain of a domain (`*.example.com`), an IP address (`192.0.2.7`) or a network in CIDR
notation (`10.0.0.0/8`, `fd00::/8`). A request is refused when its host matches a deny rule,
or when there are allow rules and none matches; deny wins. Host names are resolved to check
network rules: a name is denied when any of its addresses is in a denied network, and allowed
by networks only when all of its addresses are in allowed ones. The check runs before every
request an HTTP task sends, each hop of a redirect included.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from lanner.exceptions import HttpRequestError

ALLOW_VARIABLE = "LANNER_HTTP_ALLOW"
DENY_VARIABLE = "LANNER_HTTP_DENY"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class HostRule:
    """One rule: a host name, a `*.` domain pattern, or a network."""

    text: str
    network: Network | None = None

    def matches_name(self, host: str) -> bool:
        if self.network is not None:
            return False
        if self.text.startswith("*."):
            return host.endswith(self.text[1:])
        return host == self.text


def parse_rules(text: str, variable: str) -> tuple[HostRule, ...]:
    """Read comma-separated rules; a malformed one fails naming the variable and the rule."""
    rules: list[HostRule] = []
    for part in text.split(","):
        rule = part.strip().lower()
        if not rule:
            continue
        rules.append(_rule(rule, variable))
    return tuple(rules)


def _rule(rule: str, variable: str) -> HostRule:
    if "/" in rule or _is_address(rule):
        try:
            return HostRule(rule, ipaddress.ip_network(rule, strict=False))
        except ValueError as exc:
            raise ValueError(f"{variable}: '{rule}' is not a valid network: {exc}") from exc
    name = rule[2:] if rule.startswith("*.") else rule
    if not name or any(not label for label in name.split(".")) or "*" in name:
        raise ValueError(
            f"{variable}: '{rule}' is not a host name, '*.domain', IP address or CIDR network"
        )
    return HostRule(rule)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """The allow and deny rules of a deployment."""

    allow: tuple[HostRule, ...] = ()
    deny: tuple[HostRule, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.allow or self.deny)

    async def check(self, url: httpx.URL, first: str) -> None:
        """Refuse, with HttpRequestError, a request to `url`; `first` is the task's own URI."""
        host = url.host.lower()
        addresses = await self._addresses(host, url.port)
        where = f"'{url}'" if str(url) == first else f"'{url}' (redirected from '{first}')"
        for rule in self.deny:
            if rule.matches_name(host) or _in_network(rule, addresses, every=False):
                raise HttpRequestError(
                    f"The URI {where} is not allowed: its host '{host}' matches "
                    f"'{rule.text}' of {DENY_VARIABLE}"
                )
        if not self.allow:
            return
        for rule in self.allow:
            if rule.matches_name(host) or _in_network(rule, addresses, every=True):
                return
        listed = ", ".join(rule.text for rule in self.allow)
        raise HttpRequestError(
            f"The URI {where} is not in the configured allowed list ({ALLOW_VARIABLE}: "
            f"{listed}): no rule matches its host '{host}'"
        )

    async def _addresses(self, host: str, port: int | None) -> frozenset[Address]:
        """Return the host's addresses when a network rule needs them."""
        if _is_address(host):
            return frozenset({ipaddress.ip_address(host)})
        if not any(rule.network is not None for rule in (*self.allow, *self.deny)):
            return frozenset()
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError:
            return frozenset()
        return frozenset(ipaddress.ip_address(info[4][0]) for info in infos)


def _in_network(rule: HostRule, addresses: Iterable[Address], *, every: bool) -> bool:
    network = rule.network
    if network is None:
        return False
    found = [address in network for address in addresses]
    if not found:
        return False
    return all(found) if every else any(found)
