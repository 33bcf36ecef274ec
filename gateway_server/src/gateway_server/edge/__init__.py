"""The HTTP edge, shared by every API: the error format and the one table from
domain errors to statuses, JSON answers, request ids and the access log,
body/query/path parsing, rate limits, and the API description pages.
Imports no API; the APIs import it."""

from ._docs import docs_routes, load_contract
from ._errors import STATUS, ErrorFormat, error_response, exception_handlers, status_of
from ._limits import (
    VERDICT,
    FailureBudget,
    Limits,
    LimitsFactory,
    LocalLimits,
    RateLimiter,
    Verdict,
    check_rate,
    in_process,
    limited,
    window,
)
from ._middleware import Edge, FastLane, redacted_path
from ._parsing import (
    header,
    json_nul_path,
    known_query,
    path_id,
    query_int,
    read_body,
    read_json,
    validation_error,
)
from ._protocol import with_deadlines
from ._redaction import RedactSecrets, redact
from ._redis_limits import RedisLimits, redis_limits
from ._responses import JSONResponse, ok
from ._schemas import Body, JsonInt, JsonValue, Timestamp, text
from ._websocket import LeanWebSocketProtocol

__all__ = [
    "STATUS",
    "VERDICT",
    "Body",
    "Edge",
    "ErrorFormat",
    "FailureBudget",
    "FastLane",
    "JSONResponse",
    "JsonInt",
    "JsonValue",
    "LeanWebSocketProtocol",
    "Limits",
    "LimitsFactory",
    "LocalLimits",
    "RateLimiter",
    "RedactSecrets",
    "RedisLimits",
    "Timestamp",
    "Verdict",
    "check_rate",
    "docs_routes",
    "error_response",
    "exception_handlers",
    "header",
    "json_nul_path",
    "in_process",
    "known_query",
    "limited",
    "load_contract",
    "ok",
    "path_id",
    "query_int",
    "read_body",
    "read_json",
    "redact",
    "redis_limits",
    "redacted_path",
    "status_of",
    "text",
    "validation_error",
    "window",
    "with_deadlines",
]
