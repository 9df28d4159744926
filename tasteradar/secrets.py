"""Credentials: only from environment variables or the git-ignored ``tasteradar.secrets.toml``.

``load_secrets`` reads the known variables (``SECRET_VARS``) from the environment and from the flat secrets
file beside the configuration (``X_BEARER_TOKEN = "..."``); the environment wins. A ``Secrets`` object never
shows a value in ``repr``, ``str``, f-strings or logs: values are held wrapped and come out only through
``get``, ``require`` or ``[]``. ``redact`` removes any secret value from a message before it is shown.

Collectors do not import this module (the import direction forbids it): the CLI passes them a ``Secrets``
object, and they use its ``get``/``require``/``redact`` methods.
"""

from __future__ import annotations

import difflib
import hmac
import logging
import os
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import quote, quote_plus

from tasteradar.config import SECRET_VARS, SECRETS_FILE, ConfigError, ConfigErrors, toml_syntax_error

__all__ = ["SECRET_VARS", "SECRETS_FILE", "MissingSecret", "SecretValue", "Secrets", "load_secrets", "redact"]

log = logging.getLogger(__name__)

MIN_REDACTED_LENGTH = 4
"""Values shorter than this are not redacted from text (they would blank out ordinary words)."""

ENVIRONMENT = "environment"


class MissingSecret(LookupError):
    """A credential that is needed is not set; the message names the variable and where to set it."""


class SecretValue:
    """A secret string that never shows itself: ``str``, ``repr`` and f-strings all give ``***``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret itself, for handing to the API client that needs it."""
        return self._value

    def __repr__(self) -> str:
        return "SecretValue('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretValue):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)


def _check_name(name: str) -> None:
    """Reject a name that is not a known secret (a typo in code), suggesting the closest one."""
    if name not in SECRET_VARS:
        close = difflib.get_close_matches(name.upper(), list(SECRET_VARS), n=1)
        hint = f"; did you mean {close[0]}?" if close else f"; known: {', '.join(SECRET_VARS)}"
        raise ValueError(f"{name!r} is not a known secret{hint}")


class Secrets:
    """The credentials that are set, by variable name. Values never appear in ``repr`` or ``str``.

    Mapping-like: ``name in secrets``, ``len``, iteration over the names that are set, ``secrets[name]``.
    ``file`` is the secrets file that was looked for (None when there was no configuration folder).
    """

    def __init__(
        self,
        values: Mapping[str, str] | None = None,
        *,
        origins: Mapping[str, str] | None = None,
        file: Path | None = None,
    ) -> None:
        for name in values or {}:
            _check_name(name)
        self._values = {name: SecretValue(value) for name, value in (values or {}).items() if value}
        self._origins = {name: (origins or {}).get(name, ENVIRONMENT) for name in self._values}
        self.file = file

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter([name for name in SECRET_VARS if name in self._values])

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, name: str) -> str:
        _check_name(name)
        if name not in self._values:
            raise KeyError(name)
        return self._values[name].reveal()

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of secret ``name``, or ``default`` when it is not set."""
        _check_name(name)
        hidden = self._values.get(name)
        return default if hidden is None else hidden.reveal()

    def require(
        self, name: str, purpose: str | None = None, *, error: type[Exception] = MissingSecret
    ) -> str:
        """The value of secret ``name``; when unset, raise ``error`` with a message saying how to set it.

        ``purpose`` says what needs it (default: the documented purpose). Collectors pass their own
        ``NotConfigured`` as ``error`` so a missing credential switches the source off, loudly.
        """
        _check_name(name)
        if name in self._values:
            return self._values[name].reveal()
        where = str(self.file) if self.file is not None else f"{SECRETS_FILE} beside tasteradar.toml"
        raise error(
            f"{name} is not set; it is needed for {purpose or SECRET_VARS[name]}. Set the environment "
            f'variable {name}, or add {name} = "..." to {where} (keep that file out of git, chmod 600).'
        )

    def origin(self, name: str) -> str | None:
        """Where secret ``name`` came from: ``"environment"``, the secrets file's path, or None if unset."""
        _check_name(name)
        return self._origins.get(name)

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret value (also URL-encoded) replaced by ``***``."""
        variants: set[str] = set()
        for hidden in self._values.values():
            value = hidden.reveal()
            if len(value) >= MIN_REDACTED_LENGTH:
                variants |= {value, quote(value, safe=""), quote_plus(value)}
        for variant in sorted(variants, key=len, reverse=True):
            text = text.replace(variant, "***")
        return text

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}=***" for name in self)
        return f"Secrets({shown})"

    __str__ = __repr__


def redact(text: str, secrets: Secrets) -> str:
    """Return ``text`` with every value of ``secrets`` replaced by ``***`` (use it on exception messages).

    Values shorter than ``MIN_REDACTED_LENGTH`` characters are left alone.
    """
    return secrets.redact(text)


def load_secrets(config_dir: Path | None, env: Mapping[str, str] | None = None) -> Secrets:
    """Collect the known secrets from ``env`` (default ``os.environ``) and ``tasteradar.secrets.toml``.

    The environment wins over the file; an empty variable counts as unset. A file that other users can read
    gets a warning (naming the file, never a value). Unknown or non-string keys in the file raise
    ``ConfigErrors``. The file is looked for in ``config_dir``; with None only the environment is read.
    """
    env = os.environ if env is None else env
    file = None if config_dir is None else Path(config_dir) / SECRETS_FILE
    from_file = _read_file(file) if file is not None and file.is_file() else {}
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    for name in SECRET_VARS:
        if env.get(name):
            values[name], origins[name] = env[name], ENVIRONMENT
        elif from_file.get(name):
            values[name], origins[name] = from_file[name], str(file)
    return Secrets(values, origins=origins, file=file)


def _read_file(file: Path) -> dict[str, str]:
    """Read the flat secrets file, warning when others may read it; errors never quote a value."""
    mode = file.stat().st_mode & 0o777
    if os.name == "posix" and mode & 0o077:
        log.warning(
            "%s can be read by other users (mode %s); restrict it with: chmod 600 %s", file, oct(mode), file
        )
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8").removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigErrors([toml_syntax_error(str(file), error)]) from None
    errors: list[ConfigError] = []
    values: dict[str, str] = {}
    for key, value in data.items():
        if key not in SECRET_VARS:
            close = difflib.get_close_matches(key.upper(), list(SECRET_VARS), n=1)
            hint = f"did you mean '{close[0]}'?" if close else None
            expected = "one of " + ", ".join(SECRET_VARS)
            errors.append(ConfigError(str(file), key, f"an unknown key '{key}'", expected, hint))
        elif not isinstance(value, str):
            found = f"a {type(value).__name__} (value not shown)"
            errors.append(ConfigError(str(file), key, found, f'a string: {key} = "..."'))
        else:
            values[key] = value
    if errors:
        raise ConfigErrors(errors)
    return values
