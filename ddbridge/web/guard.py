"""Who may talk to the page's server: its own page only.

* ``Host`` must name this server (loopback names and the port, plus any configured host names):
  a DNS-rebinding page reaches the port under its own host name and is refused.
* ``Origin``, when present, must be this server's; requests that change anything (and WebSocket
  upgrades) must carry it, which browsers do for every such request.
* ``Sec-Fetch-Site`` ``cross-site`` / ``same-site`` (another site, or another port of this
  machine) is refused, except a plain navigation to the page itself.

Every response also carries a strict Content-Security-Policy and ``Cross-Origin-Resource-Policy:
same-origin``, so other pages can neither frame the page nor embed its audio.
"""

from __future__ import annotations

from collections.abc import Iterable

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS = ("", "*", "0.0.0.0", "::")
SAFE_METHODS = ("GET", "HEAD")
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class Guard:
    """Decides whether a request may be served; ``refusal`` says why not."""

    def __init__(self, bind_host: str, port: int, extra_hosts: Iterable[str] = ()) -> None:
        names = set(LOOPBACK_NAMES)
        if bind_host not in WILDCARDS:
            names.add(f"[{bind_host}]" if ":" in bind_host else bind_host)
        names.update(h.lower() for h in extra_hosts)
        self.hosts = {f"{name.lower()}:{port}" for name in names}
        self.origins = {f"http://{host}" for host in self.hosts}

    def refusal(self, method: str, path: str, headers) -> str | None:
        """None when the request may be served, else the reason it is refused."""
        host = headers.get("Host", "").lower()
        if host not in self.hosts:
            return f"Host '{host[:80]}' is not this page's address; use http://{sorted(self.hosts)[0]}/"
        origin = headers.get("Origin")
        if origin is not None and origin.lower() not in self.origins:
            return f"requests from another site ({origin[:80]}) are refused"
        upgrade = headers.get("Upgrade", "").lower() == "websocket"
        if origin is None and (method not in SAFE_METHODS or upgrade):
            return "requests that change anything must come from the page itself (no Origin header)"
        site = headers.get("Sec-Fetch-Site", "none")
        if site in ("cross-site", "same-site"):
            navigation = method == "GET" and path == "/" and headers.get("Sec-Fetch-Mode") == "navigate"
            if not navigation:
                return f"a request from another site or port ({site}) is refused"
        return None
