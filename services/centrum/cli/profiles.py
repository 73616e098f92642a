"""The profile file: named connections (target, one credential, TLS files) for the CLI.

`$XDG_CONFIG_HOME/centrum/profiles.toml` (default `~/.config/centrum/profiles.toml`), or the
file named by `CENTRUM_PROFILES_FILE`:

    [profiles.prod]
    target = "centrum.example.com:443"
    client_id = "sa_..."            # client credentials: tokens fetched and renewed
    client_secret = "cs_..."
    ca = "~/pki/ca.pem"             # optional TLS: server CA, client certificate and key (mTLS)

    [profiles.local]
    target = "127.0.0.1:50051"
    token = "eyJ..."                # or: api_key = "ck_..."

Like ssh with private keys, a file that holds a secret and is readable by group or others is
refused (chmod 600 it); `save` and `delete` always write the file 0600.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CREDENTIAL_FIELDS",
    "DEFAULT_PROFILE",
    "PROFILES_FILE_ENV",
    "SECRET_FIELDS",
    "Profile",
    "ProfileError",
    "delete",
    "load",
    "load_unchecked",
    "profiles_path",
    "save",
    "select",
]

PROFILES_FILE_ENV = "CENTRUM_PROFILES_FILE"
DEFAULT_PROFILE = "default"
SECRET_FIELDS = ("token", "api_key", "client_secret")
CREDENTIAL_FIELDS = ("token", "api_key", "client_id", "client_secret", "scopes")
_FIELDS = ("target", *CREDENTIAL_FIELDS, "ca", "cert", "key")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ProfileError(Exception):
    """A profile that cannot be used: what is wrong and how to fix it."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class Profile:
    """One named connection: a target, at most one credential and optional TLS files."""

    name: str
    target: str | None = None
    token: str | None = None
    api_key: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    scopes: tuple[str, ...] = field(default=())
    ca: str | None = None
    cert: str | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ProfileError(
                f"bad profile name {self.name!r}",
                "use letters, digits, '.', '_' and '-' (at most 64 characters)",
            )
        kinds = [bool(self.token), bool(self.api_key), bool(self.client_id or self.client_secret)]
        if sum(kinds) > 1:
            raise ProfileError(
                f"profile {self.name!r} holds more than one credential",
                "keep one of: token, api_key, client_id + client_secret",
            )
        if bool(self.client_id) != bool(self.client_secret):
            raise ProfileError(
                f"profile {self.name!r} needs client_id and client_secret together",
                "set both (centrum profile set NAME --client-id ID --client-secret -)",
            )
        if bool(self.cert) != bool(self.key):
            raise ProfileError(
                f"profile {self.name!r} needs cert and key together (mutual TLS)",
                "set both, or neither",
            )
        for name in _FIELDS:
            value = getattr(self, name)
            values = value if isinstance(value, tuple) else (value,)
            if any(isinstance(v, str) and _CONTROL.search(v) for v in values):
                raise ProfileError(f"profile {self.name!r}: {name} holds a control character")

    def __repr__(self) -> str:
        return f"Profile(name={self.name!r}, target={self.target!r}, credential={self.credential})"

    @property
    def credential(self) -> str | None:
        """Which credential the profile holds: token, api_key, client_credentials or None."""
        if self.token:
            return "token"
        if self.api_key:
            return "api_key"
        if self.client_id:
            return "client_credentials"
        return None

    @property
    def has_secret(self) -> bool:
        """Whether the profile holds a token, an API key or a client secret."""
        return any(getattr(self, name) for name in SECRET_FIELDS)

    def tls_file(self, name: str, base: Path) -> str | None:
        """The path of TLS file `name` (ca, cert or key): `~` expanded, relative to `base`."""
        value: str | None = getattr(self, name)
        if not value:
            return None
        return str(base / Path(value).expanduser())

    def fields(self) -> dict[str, Any]:
        """The fields that are set, as stored in the file (secrets included)."""
        values = asdict(self)
        values.pop("name")
        values["scopes"] = list(self.scopes)
        return {k: v for k, v in values.items() if v}

    def masked(self) -> dict[str, Any]:
        """The fields that are set, each secret replaced by `********`."""
        return {k: "********" if k in SECRET_FIELDS else v for k, v in self.fields().items()}


def profiles_path() -> Path:
    """Where the profile file is: `CENTRUM_PROFILES_FILE`, else under `$XDG_CONFIG_HOME`."""
    explicit = os.environ.get(PROFILES_FILE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "centrum" / "profiles.toml"


def _parse(path: Path, text: str) -> dict[str, Profile]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path} is not valid TOML: {exc}", f"fix or delete {path}") from None
    tables = document.get("profiles", {})
    if not isinstance(tables, dict):
        raise ProfileError(f"{path}: 'profiles' must be a table", "use [profiles.NAME] tables")
    profiles: dict[str, Profile] = {}
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise ProfileError(f"{path}: profiles.{name} must be a table")
        unknown = sorted(set(table) - set(_FIELDS))
        if unknown:
            raise ProfileError(
                f"{path}: profile {name!r} has unknown field(s) {', '.join(unknown)}",
                f"known fields: {', '.join(_FIELDS)}",
            )
        values = dict(table)
        wrong = [
            k
            for k, v in values.items()
            if not (
                isinstance(v, str)
                or (k == "scopes" and isinstance(v, list) and all(isinstance(s, str) for s in v))
            )
        ]
        if wrong:
            raise ProfileError(f"{path}: profile {name!r}: {', '.join(wrong)} must be text")
        values["scopes"] = tuple(values.get("scopes", ()))
        profiles[name] = Profile(name=name, **values)
    return profiles


def _read(path: Path, *, check_mode: bool) -> dict[str, Profile]:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ProfileError(f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(descriptor, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        profiles = _parse(path, handle.read().decode("utf-8", errors="replace"))
    if check_mode and mode & 0o077 and any(p.has_secret for p in profiles.values()):
        raise ProfileError(
            f"{path} holds secrets and is readable by others (mode {stat.S_IMODE(mode):04o})",
            f"chmod 600 {path}",
        )
    return profiles


def load(path: Path | None = None) -> dict[str, Profile]:
    """Every profile of the file (none if it does not exist); refuses a shared file of secrets."""
    return _read(path or profiles_path(), check_mode=True)


def load_unchecked(path: Path | None = None) -> dict[str, Profile]:
    """Every profile without the permission check: only for rewriting the file (then 0600)."""
    return _read(path or profiles_path(), check_mode=False)


def select(name: str | None, path: Path | None = None) -> Profile | None:
    """The profile called `name`, else the `default` profile if there is one.

    A named profile that does not exist is an error; a missing `default` is not.
    """
    location = path or profiles_path()
    profiles = load(location)
    if name is None:
        return profiles.get(DEFAULT_PROFILE)
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ProfileError(
            f"no profile {name!r} in {location} (known: {known})",
            f"create it: centrum profile set {name} --target HOST:PORT ...",
        )
    return profiles[name]


def _toml(value: Any) -> str:
    # JSON string escapes (\", \\, \n, \uXXXX) are valid TOML basic-string escapes.
    if isinstance(value, list | tuple):
        return "[" + ", ".join(json.dumps(str(v)) for v in value) + "]"
    return json.dumps(str(value))


def _write(path: Path, profiles: Mapping[str, Profile]) -> None:
    lines = ["# Centrum CLI profiles (centrum profile set/list/show/delete). Keep this file 0600."]
    for name in sorted(profiles):
        lines += ["", f"[profiles.{json.dumps(name)}]"]
        lines += [f"{k} = {_toml(v)}" for k, v in profiles[name].fields().items()]
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".profiles-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save(profile: Profile, path: Path | None = None) -> Path:
    """Adds or replaces `profile` in the file, written atomically with mode 0600."""
    location = path or profiles_path()
    profiles = load_unchecked(location)
    profiles[profile.name] = profile
    _write(location, profiles)
    return location


def delete(name: str, path: Path | None = None) -> bool:
    """Removes profile `name`; False if there was none."""
    location = path or profiles_path()
    profiles = load_unchecked(location)
    if profiles.pop(name, None) is None:
        return False
    _write(location, profiles)
    return True
