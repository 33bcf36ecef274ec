"""One logger per package; debug lines switched on by an environment variable.

``SDK_LOG=debug`` turns on debug logs for every package of the suite, and
``<PACKAGE>_LOG=debug`` (``NEXTHINK_SDK_LOG``, ``SDK_CORE_LOG``...) for one.
A debug line names the method, the URL (secrets masked), the status, the
time taken and the request id; credentials never appear.
"""

from __future__ import annotations

import logging
import os

__all__ = ["get_logger"]

_TRUE = {"debug", "1", "true", "yes", "on"}
_configured: set[str] = set()


def _env_wants_debug(package: str) -> bool:
    for var in ("SDK_LOG", f"{package.upper()}_LOG"):
        if os.environ.get(var, "").strip().lower() in _TRUE:
            return True
    return False


def get_logger(package: str) -> logging.Logger:
    """The package's logger, set to DEBUG with a stderr handler when the env asks."""
    logger = logging.getLogger(package)
    if package not in _configured:
        _configured.add(package)
        if _env_wants_debug(package):
            logger.setLevel(logging.DEBUG)
            if not logger.handlers:
                handler = logging.StreamHandler()
                handler.setFormatter(
                    logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
                )
                logger.addHandler(handler)
    return logger
