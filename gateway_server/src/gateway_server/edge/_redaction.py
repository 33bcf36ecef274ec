"""Credentials kept out of every log line, from any logger, at any level.

The gateway's own access log is built without them (``redacted_path``), but
other code logs requests too: uvicorn's WebSocket lines print the path with
its query (``?deviceSecret=...``, ``?token=<JWT>``), its debug lines every
handshake header, its trace lines every ASGI scope and message, and the
websockets library each frame. :class:`RedactSecrets` is a filter on the
process's log handler (``_cli.py`` puts it there) that masks, in the
formatted message and any traceback:

- the value of a query parameter, header or JSON/dict field whose name
  looks secret (``secret``, ``token``, ``code``, ``key``, ``password``,
  ``authorization``, ``cookie``);
- anything shaped like a JWT, and what follows ``Bearer``;
- the payload of a WebSocket frame (its kind and size are kept).
"""

from __future__ import annotations

import logging
import re
from typing import Any

__all__ = ["ACCESS_LOG", "SECRET_PARAMS", "RedactSecrets", "redact"]

ACCESS_LOG = "gateway_server.access"

_WORDS = (
    "secret",
    "token",
    "password",
    "passwd",
    "code",
    "key",
    "authorization",
    "cookie",
    "state",
)
SECRET_PARAMS = re.compile("(?i)" + "|".join(_WORDS))
"""A parameter or field name whose value is a credential (or may be one)."""

MASK = "[REDACTED]"
_HEADER = r"(?:proxy-)?authorization|(?:set-)?cookie|x-[a-z0-9-]*?(?:token|secret|key)"
# Each pattern captures a name and the value after it; the name decides (one
# greedy run of name characters, so that scanning stays linear).
_PATTERNS = re.compile(
    "|".join(
        (
            # name=value (query strings, forms); the value runs to a separator
            r"(?P<pair>(?P<pname>[A-Za-z0-9_.-]+)=)(?P<pvalue>[^&\s'\"\]>),;]+)",
            # a credential header as a line ("authorization: Bearer ...") or as an
            # ASGI pair ((b'x-device-secret', b'...')): to a quote or the line's end
            rf"(?P<header>\b(?:{_HEADER})(?::\s*|['\"],\s*b?['\"]))[^'\"\r\n]+",
            # a quoted field of JSON or of a repr ("claimToken": "...")
            r"(?P<field>['\"](?P<fname>[A-Za-z0-9_.-]+)['\"]\s*:\s*b?['\"])(?P<fvalue>[^'\"]*)",
            # Bearer <anything>, and JWT-shaped strings wherever they are
            r"(?P<bearer>\bbearer\s+)[A-Za-z0-9._~+/=-]+",
            r"(?P<jwt>)eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?",
        )
    ),
    re.IGNORECASE,
)


def _secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _WORDS)


def _mask(match: re.Match[str]) -> str:
    # a value under a name that is not secret may still hold one (a query string)
    if match.group("pair") is not None:
        if match.group("pvalue") == MASK:
            return match.group(0)
        if not _secret_name(match.group("pname")):
            return match.group("pair") + redact(match.group("pvalue"))
        return match.group("pair") + MASK
    if match.group("field") is not None:
        if not _secret_name(match.group("fname")):
            return match.group("field") + redact(match.group("fvalue"))
        return match.group("field") + MASK
    for group in ("header", "bearer", "jwt"):
        kept = match.group(group)
        if kept is not None:
            return kept + MASK
    return MASK  # pragma: no cover


def redact(text: str) -> str:
    """``text`` with every credential it shows masked."""
    lowered = text.lower()
    if not any(word in lowered for word in (*_WORDS, "bearer", "eyj")):
        return text  # most lines: nothing to look at closely
    return _PATTERNS.sub(_mask, text)


def _frame_summary(arg: Any) -> Any:
    """A WebSocket frame as its kind and size, without its payload."""
    opcode = getattr(arg, "opcode", None)
    data = getattr(arg, "data", None)
    if opcode is not None and isinstance(data, bytes | bytearray):
        return f"{getattr(opcode, 'name', opcode)} [{len(data)} bytes]"
    return arg


class RedactSecrets(logging.Filter):
    """Masks credentials in each record that passes (see the module)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == ACCESS_LOG:
            return True  # built without credentials (``redacted_path``), once a request
        if isinstance(record.args, tuple):
            record.args = tuple(_frame_summary(arg) for arg in record.args)
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
