"""One logger per package; debug lines switched on by an environment variable.

``SDK_LOG=debug`` turns on debug logs for every package of the suite, and
``<PACKAGE>_LOG=debug`` (``NEXTHINK_SDK_LOG``, ``SDK_CORE_LOG``...) for one.
A debug line names the method, the URL (secrets masked), the status, the
time taken and the request id; credentials never appear.

The variables are read each time a client is built (not once per process), so a
notebook can set ``os.environ["SDK_LOG"] = "debug"`` and then make its client.
"""

from __future__ import annotations

import logging
import os

import httpx

from ._secrets import redact_url

__all__ = ["get_logger"]

_TRUE = {"debug", "1", "true", "yes", "on"}


def _env_wants_debug(package: str) -> bool:
    for var in ("SDK_LOG", f"{package.upper()}_LOG"):
        if os.environ.get(var, "").strip().lower() in _TRUE:
            return True
    return False


class _RedactHttpxURLs(logging.Filter):
    """httpx logs every request's full URL at INFO; mask the secrets in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 2 and isinstance(args[1], httpx.URL):
            record.args = (args[0], redact_url(args[1]), *args[2:])
        return True


_httpx_filter = _RedactHttpxURLs()


class _EnvHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stderr handler the environment variables add (once per logger)."""


def get_logger(package: str) -> logging.Logger:
    """The package's logger, set to DEBUG with a stderr handler when the env asks
    (read at every call: the clients call this when they are built)."""
    logger = logging.getLogger(package)
    httpx_logger = logging.getLogger("httpx")
    if _httpx_filter not in httpx_logger.filters:
        httpx_logger.addFilter(_httpx_filter)
    if _env_wants_debug(package):
        logger.setLevel(logging.DEBUG)
        if not any(isinstance(h, _EnvHandler) for h in logger.handlers):
            handler = _EnvHandler()
            handler.setFormatter(
                logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
            )
            logger.addHandler(handler)
    return logger
