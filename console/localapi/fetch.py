"""Fetching an input's data from its URL, safely.

Every connection, redirects included, is checked after the host name is resolved and is made to the
address that was checked, so a name that resolves to a private, loopback or link-local address (or is
re-pointed there between check and use) is refused unless LOCALAPI_ALLOW_PRIVATE_URLS is on. Size and
time are capped; a failure says why in words a user can act on.
"""

import ipaddress
import socket
import time
from collections.abc import Iterable

import httpcore
import httpx
from django.conf import settings


class FetchError(Exception):
    """The data could not be fetched; the message says why."""


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def parse_url(url: str) -> httpx.URL:
    """The URL as the fetcher reads it (host IDNA-encoded), or FetchError if the fetcher cannot read it."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as e:
        raise FetchError(f"{url!r} is not a URL that can be fetched: {e}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise FetchError(f"{url!r} is not an http or https URL")
    return parsed


def _numeric_address(host: str) -> str | None:
    """The address a numeric host stands for in any form the resolver reads (`127.1`, `2130706433`,
    `0x7f.0.0.1`), or None for a name."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return None


def check_host(host: str) -> None:
    """Refuse a private address in any numeric form, or `localhost`, before anything is queued."""
    if settings.LOCALAPI_ALLOW_PRIVATE_URLS:
        return
    name = host.lower().rstrip(".")
    if name in {"localhost", "localhost.localdomain"} or name.endswith(".localhost"):
        raise FetchError(f"{host} is a private address; fetching from private addresses is not allowed.")
    address = _numeric_address(host)
    if address is not None and not address_is_public(address):
        raise FetchError(f"{host} is a private address; fetching from private addresses is not allowed.")


class _GuardedBackend(httpcore.SyncBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as e:
            raise httpcore.ConnectError(f"could not resolve {host}: {e.strerror}") from None
        addresses = [address for *_, sockaddr in infos if isinstance(address := sockaddr[0], str)]  # IPv4, IPv6
        if not addresses:
            raise httpcore.ConnectError(f"could not resolve {host} to an IP address")
        allowed = [a for a in addresses if settings.LOCALAPI_ALLOW_PRIVATE_URLS or address_is_public(a)]
        if not allowed:
            raise _PrivateAddress(
                f"{host} resolves to a private address ({addresses[0]}); "
                "fetching from private addresses is not allowed."
            )
        return super().connect_tcp(allowed[0], port, timeout, local_address, socket_options)


class _PrivateAddress(httpcore.ConnectError):
    pass


def _client(timeout: float) -> httpx.Client:
    transport = httpx.HTTPTransport(retries=0)
    # httpx has no public hook for the network backend; its pool takes one, so swap it in.
    transport._pool._network_backend = _GuardedBackend()
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(timeout),
        follow_redirects=True,
        max_redirects=5,
        trust_env=False,
        headers={"User-Agent": "clarifai-console-localapi/1 (+fetching an input's URL)"},
    )


def _seconds(value: float) -> str:
    return "1 second" if value == 1 else f"{value:g} seconds"


def fetch(url: str, max_bytes: int, timeout: float | None = None) -> tuple[bytes, str]:
    """Return the body at `url` and its content type, or raise FetchError saying why not."""
    timeout = timeout or settings.LOCALAPI_FETCH_TIMEOUT
    deadline = time.monotonic() + timeout
    try:
        with _client(timeout) as client, client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise FetchError(f"the server answered HTTP {response.status_code} for {url}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"the file is {int(declared):,} bytes, over the limit of {max_bytes:,} bytes")
            chunks = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"the file is over the limit of {max_bytes:,} bytes")
                if time.monotonic() > deadline:
                    raise FetchError(f"fetching took longer than {_seconds(timeout)}")
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("content-type", "")
    except FetchError:
        raise
    except httpx.TooManyRedirects:
        raise FetchError(f"too many redirects from {url}") from None
    except httpx.TimeoutException:
        raise FetchError(f"fetching took longer than {_seconds(timeout)}") from None
    except httpx.ConnectError as e:
        if isinstance(e.__cause__, _PrivateAddress):
            raise FetchError(str(e.__cause__)) from None
        raise FetchError(f"could not connect to {httpx.URL(url).host}: {e}") from None
    except httpx.HTTPError as e:
        raise FetchError(f"fetching {url} failed: {e}") from None
    except httpx.InvalidURL as e:  # posted before PostInputs checked URLs the way the fetcher reads them
        raise FetchError(f"{url!r} is not a URL that can be fetched: {e}") from None
