"""ZeroMQ CURVE for a daemon reached over the network: key pairs, the server's allow-list, client keys.

A key pair is two files made by pyzmq's ``zmq.auth.create_certificates``: ``NAME.key`` (the public
key, safe to copy around) and ``NAME.key_secret`` (keep it on its machine). The daemon loads its own
secret file and a folder of allowed clients' public files; a client loads its own secret file and
the daemon's public file. ``remote.toml`` (in the user config folder, or ``$DDBRIDGE_REMOTE``) tells
clients which keys go with which daemon address, so every client (``ddbridge request``, REAPER's
scripts through it) finds them by the endpoint alone::

    [[daemon]]
    endpoint = "tcp://studio-pc:5555"
    server_key = "~/.config/ddbridge/keys/studio.key"          # the daemon's public key
    client_key = "~/.config/ddbridge/keys/laptop.key_secret"   # this machine's key pair
"""

from __future__ import annotations

import ipaddress
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import zmq

from ddbridge.protocol.errors import BadRequest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PUBLIC_SUFFIX = ".key"
SECRET_SUFFIX = ".key_secret"


def default_keys_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("ddbridge")) / "keys"


def create_keys(folder: Path, name: str) -> tuple[Path, Path]:
    """Make ``folder/NAME.key`` and ``folder/NAME.key_secret``; refuses to replace an existing pair."""
    import zmq.auth

    if not name or Path(name).name != name or name.startswith("."):
        raise BadRequest(f"key name must be a plain file name, got {name!r}")
    public, secret = folder / f"{name}{PUBLIC_SUFFIX}", folder / f"{name}{SECRET_SUFFIX}"
    for path in (public, secret):
        if path.exists():
            raise BadRequest(f"{path} exists; pick another name or remove the old key pair first")
    folder.mkdir(parents=True, exist_ok=True)
    zmq.auth.create_certificates(folder, name)
    secret.chmod(0o600)
    return public, secret


def _load(path: str | Path, secret: bool) -> tuple[bytes, bytes | None]:
    import zmq.auth

    p = Path(path).expanduser()
    try:
        public_key, secret_key = zmq.auth.load_certificate(p)
    except (OSError, ValueError) as e:
        raise BadRequest(f"cannot read the key file {p}: {e}") from None
    if secret and not secret_key:
        raise BadRequest(f"{p} holds no secret key; give the {SECRET_SUFFIX} file of the pair")
    return public_key, secret_key


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps a socket on this machine (``localhost`` or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class CurveServer:
    """The daemon's side: its key pair on every socket it binds, and only allowed clients let in.

    ``clients`` is a folder of allowed clients' public ``.key`` files, read once at start.
    """

    def __init__(self, secret_key_file: str | Path, clients: str | Path) -> None:
        self.public_key, self.secret_key = _load(secret_key_file, secret=True)
        self.clients = Path(clients).expanduser()
        if not self.clients.is_dir():
            raise BadRequest(f"the allowed clients folder {self.clients} does not exist")
        self.allowed = sorted(self.clients.glob(f"*{PUBLIC_SUFFIX}"))
        if not self.allowed:
            raise BadRequest(f"no client public keys (*{PUBLIC_SUFFIX}) in {self.clients}; nobody could connect")
        self._auth = None

    def start(self, context: zmq.Context) -> None:
        """Start ZeroMQ's authenticator on ``context``: only the allowed public keys pass the handshake."""
        from zmq.auth.thread import ThreadAuthenticator

        self._auth = ThreadAuthenticator(context)
        self._auth.start()
        self._auth.configure_curve(domain="*", location=str(self.clients))

    def apply(self, sock: zmq.Socket) -> None:
        """Make ``sock`` a CURVE server (call before ``bind``)."""
        sock.curve_secretkey = self.secret_key
        sock.curve_publickey = self.public_key
        sock.curve_server = True

    def stop(self) -> None:
        if self._auth is not None:
            self._auth.stop()
            self._auth = None


@dataclass(frozen=True)
class ClientKeys:
    """A client's key pair and the daemon's public key."""

    server_public: bytes
    public: bytes
    secret: bytes

    @classmethod
    def load(cls, server_key_file: str | Path, client_key_file: str | Path) -> ClientKeys:
        server_public, _ = _load(server_key_file, secret=False)
        public, secret = _load(client_key_file, secret=True)
        return cls(server_public, public, secret)

    def apply(self, sock: zmq.Socket) -> None:
        """Make ``sock`` a CURVE client of the daemon (call before ``connect``)."""
        sock.curve_serverkey = self.server_public
        sock.curve_publickey = self.public
        sock.curve_secretkey = self.secret


def profile_path() -> Path:
    """``$DDBRIDGE_REMOTE``, else ``remote.toml`` in the user config folder."""
    if os.environ.get("DDBRIDGE_REMOTE"):
        return Path(os.environ["DDBRIDGE_REMOTE"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("ddbridge")) / "remote.toml"


def keys_for(endpoint: str, path: Path | None = None) -> ClientKeys | None:
    """The keys ``remote.toml`` gives for ``endpoint``, or None when it names none for it."""
    path = path or profile_path()
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise BadRequest(f"{path}: {e}") from None
    daemons = data.get("daemon", [])
    if not isinstance(daemons, list):
        raise BadRequest(f"{path}: 'daemon' must be a list of tables ([[daemon]])")
    for entry in daemons:
        if isinstance(entry, dict) and entry.get("endpoint") == endpoint:
            missing = [k for k in ("server_key", "client_key") if not isinstance(entry.get(k), str)]
            if missing:
                raise BadRequest(f"{path}: the daemon {endpoint} needs {' and '.join(missing)}")
            return ClientKeys.load(entry["server_key"], entry["client_key"])
    return None
