"""JSON out, by pydantic-core: the answers (``edge.JSONResponse``) and the JSON
text the stores keep."""

from __future__ import annotations

from typing import Any

import pydantic_core

__all__ = ["dumps"]


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON. ``json.dumps`` builds a new encoder on every call
    (about 3 us; this takes 0.3 us). Request models refuse non-finite numbers,
    so none are stored or answered; should one appear anyway it is written as
    ``null``, never as invalid JSON."""
    return pydantic_core.to_json(value, inf_nan_mode="null")
