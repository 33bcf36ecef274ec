"""Nexthink request and response models.

Responses keep fields Nexthink adds later. Request models forbid unknown
fields and validate formats (NQL ids, SIDs, UPNs, UUIDs) before sending.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pydantic
from pydantic import AfterValidator, Field

from sdk_core import BaseModel, UUIDStr, html_records, html_table, matching

if TYPE_CHECKING:
    import pandas

__all__ = [
    "UPN",
    "CampaignRequest",
    "DeviceDeletion",
    "DeviceDeletionResult",
    "DeviceRef",
    "Enrichment",
    "ExportJob",
    "ExportStatus",
    "NQLQueryId",
    "NameValue",
    "NqlResult",
    "NqlResultV2",
    "RemoteAction",
    "RemoteActionRequest",
    "ScriptInfo",
    "ScriptInput",
    "ScriptOutput",
    "TriggerInfo",
    "UserRef",
    "Workflow",
    "WorkflowEventResult",
    "WindowsSID",
    "WorkflowExecution",
]

# The formats the Nexthink documents give (nexthink-endpoints.md).
SID_RE = re.compile(r"^S(-\d+){2,10}$")
UPN_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
NQL_QUERY_ID_RE = re.compile(r"^#[a-z0-9_]{2,255}$")

WindowsSID = Annotated[
    str,
    AfterValidator(
        matching(SID_RE, "a Windows SID like S-1-5-21-1004336348-1177238915-682003330-512")
    ),
]
"""``S`` then 2 to 10 groups of ``-digits``, as the document's ``^S(-\\d+){2,10}$``."""
UPN = Annotated[
    str, AfterValidator(matching(UPN_RE, "a user principal name like user@example.com"))
]
NQLQueryId = Annotated[
    str,
    AfterValidator(matching(NQL_QUERY_ID_RE, "an NQL query id: '#' then 2 to 255 of a-z, 0-9, _")),
]


class _Input(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def _nql_caption(result: NqlResult | NqlResultV2) -> str:
    caption = f"NQL {result.query_id}: {result.rows:,} rows"
    if result.rows != len(result.data):
        caption += f" ({len(result.data):,} returned)"
    if result.execution_date_time:
        caption += f", executed {result.execution_date_time}"
    return caption


def import_pandas() -> Any:
    """pandas, or an ImportError saying which extra brings it."""
    try:
        import pandas as pd  # noqa: PLC0415 - an optional extra, imported on use
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("this needs pandas: pip install 'nexthink-sdk[pandas]'") from exc
    return pd


# -- NQL ------------------------------------------------------------------------
class NqlResult(BaseModel):
    """``POST /api/v1/nql/execute``: column names and rows of values."""

    query_id: str = Field(alias="queryId")
    executed_query: str | None = Field(default=None, alias="executedQuery")
    rows: int
    execution_date_time: str | None = Field(default=None, alias="executionDateTime")
    headers: list[str]
    data: list[list[Any]]

    def iter_dicts(self) -> Iterator[dict[str, Any]]:
        """Each row as ``{column: value}``."""
        for row in self.data:
            yield dict(zip(self.headers, row, strict=False))

    def to_dataframe(self) -> pandas.DataFrame:
        """The rows as a pandas DataFrame (needs the ``pandas`` extra)."""
        frame: pandas.DataFrame = import_pandas().DataFrame(self.data, columns=self.headers)
        return frame

    def _repr_html_(self) -> str:
        """The rows as a table in a notebook: escaped, the first rows only for a large result."""
        return html_table(self.headers, self.data, caption=_nql_caption(self))


class NqlResultV2(BaseModel):
    """``POST /api/v2/nql/execute``: rows as objects keyed by field name."""

    query_id: str = Field(alias="queryId")
    executed_query: str | None = Field(default=None, alias="executedQuery")
    rows: int
    execution_date_time: str | None = Field(default=None, alias="executionDateTime")
    data: list[dict[str, Any]]

    def to_dataframe(self) -> pandas.DataFrame:
        """The rows as a pandas DataFrame (needs the ``pandas`` extra)."""
        frame: pandas.DataFrame = import_pandas().DataFrame.from_records(self.data)
        return frame

    def _repr_html_(self) -> str:
        """The rows as a table in a notebook: escaped, the first rows only for a large result."""
        return html_records(self.data, caption=_nql_caption(self))


class ExportJob(BaseModel):
    export_id: str = Field(alias="exportId")


ExportState = Literal["SUBMITTED", "IN_PROGRESS", "COMPLETED", "ERROR"]


class ExportStatus(BaseModel):
    status: ExportState
    results_file_url: str | None = Field(default=None, alias="resultsFileUrl")
    error_description: str | None = Field(default=None, alias="errorDescription")

    @property
    def done(self) -> bool:
        return self.status in ("COMPLETED", "ERROR")

    def __repr_args__(self) -> Any:
        # The pre-signed URL is a credential for the export: keep it out of reprs.
        for key, value in super().__repr_args__():
            yield key, ("<pre-signed URL>" if key == "results_file_url" and value else value)


# -- enrichment -----------------------------------------------------------------------
class NameValue(_Input):
    name: Annotated[str, Field(min_length=1)]
    value: str | int | float | bool


class Enrichment(_Input):
    """One object to enrich: exactly one identification pair and at least one field."""

    identification: Annotated[list[NameValue], Field(min_length=1, max_length=1)]
    fields: Annotated[list[NameValue], Field(min_length=1)]

    @classmethod
    def of(
        cls, identified_by: tuple[str, str], fields: dict[str, str | int | float | bool]
    ) -> Enrichment:
        """One object by one identification pair, with fields as a dict::

        Enrichment.of(("device/device/name", "LAPTOP-42"), {"device/device/#asset_tag": "A-1"})
        """
        name, value = identified_by
        return cls(
            identification=[NameValue(name=name, value=value)],
            fields=[NameValue(name=k, value=v) for k, v in fields.items()],
        )

    @property
    def key(self) -> tuple[str, str]:
        ident = self.identification[0]
        return (ident.name, str(ident.value))


# -- campaigns ------------------------------------------------------------------------
class CampaignRequest(BaseModel):
    """One user of a campaign trigger: reached (``request_id``) or not (``message``)."""

    user_sid: str = Field(alias="userSid")
    request_id: str | None = Field(default=None, alias="requestId")
    message: str | None = None


# -- remote actions ------------------------------------------------------------------
class TriggerInfo(_Input):
    external_source: str | None = Field(default=None, alias="externalSource")
    reason: Annotated[str, Field(max_length=500)] | None = None
    external_reference: str | None = Field(default=None, alias="externalReference")


class RemoteActionRequest(BaseModel):
    request_id: str = Field(alias="requestId")
    expires_in_minutes: int | None = Field(default=None, alias="expiresInMinutes")


class Targeting(BaseModel):
    api_enabled: bool | None = Field(default=None, alias="apiEnabled")
    manual_enabled: bool | None = Field(default=None, alias="manualEnabled")
    manual_allow_multiple: bool | None = Field(default=None, alias="manualAllowMultiple")
    workflow_enabled: bool | None = Field(default=None, alias="workflowEnabled")


class ScriptInput(BaseModel):
    """One input a remote action's script takes."""

    name: str | None = None
    id: str | None = None
    description: str | None = None
    allow_custom_value: bool | None = Field(default=None, alias="allowCustomValue")
    options: list[str] = Field(default_factory=list)


class ScriptOutput(BaseModel):
    """One output a remote action's script reports."""

    name: str | None = None
    type: str | None = None
    id: str | None = None
    description: str | None = None


class ScriptInfo(BaseModel):
    """How a remote action's script runs, and what it takes and gives."""

    run_as: str | None = Field(default=None, alias="runAs")
    timeout_seconds: int | None = Field(default=None, alias="timeoutSeconds")
    has_script_windows: bool | None = Field(default=None, alias="hasScriptWindows")
    has_script_mac_os: bool | None = Field(default=None, alias="hasScriptMacOs")
    inputs: list[ScriptInput] = Field(default_factory=list)
    outputs: list[ScriptOutput] = Field(default_factory=list)


class RemoteAction(BaseModel):
    id: str
    uuid: str | None = None
    name: str
    description: str | None = None
    origin: str | None = None
    built_in_content_version: str | None = Field(default=None, alias="builtInContentVersion")
    purpose: list[str] = Field(default_factory=list)
    targeting: Targeting | None = None
    script_info: ScriptInfo | None = Field(default=None, alias="scriptInfo")


# -- workflows ------------------------------------------------------------------------
class DeviceRef(_Input):
    """A device by external id (workflows v2): at least one of name, uid, collector_uid."""

    name: Annotated[str, Field(min_length=1)] | None = None
    uid: UUIDStr | None = None
    collector_uid: UUIDStr | None = Field(default=None, alias="collectorUid")

    @pydantic.model_validator(mode="after")
    def _one_id(self) -> DeviceRef:
        if self.name is None and self.uid is None and self.collector_uid is None:
            raise ValueError("needs at least one of name, uid, collector_uid")
        return self


class UserRef(_Input):
    """A user by external id (workflows v2): at least one of sid, uid, upn."""

    sid: WindowsSID | None = None
    uid: UUIDStr | None = None
    upn: UPN | None = None

    @pydantic.model_validator(mode="after")
    def _one_id(self) -> UserRef:
        if self.sid is None and self.uid is None and self.upn is None:
            raise ValueError("needs at least one of sid, uid, upn")
        return self


class WorkflowExecution(BaseModel):
    request_uuid: str = Field(alias="requestUuid")
    executions_uuids: list[str] = Field(alias="executionsUuids")


class WorkflowEventResult(BaseModel):
    request_uuid: str = Field(alias="requestUuid")


class TriggerMethods(BaseModel):
    api_enabled: bool | None = Field(default=None, alias="apiEnabled")
    manual_enabled: bool | None = Field(default=None, alias="manualEnabled")
    manual_allow_multiple_instances: bool | None = Field(
        default=None, alias="manualAllowMultipleInstances"
    )
    scheduling_enabled: bool | None = Field(default=None, alias="schedulingEnabled")


class WorkflowVersion(BaseModel):
    version: int | None = None
    status: str | None = None


class Workflow(BaseModel):
    id: str
    uuid: str | None = None
    name: str
    description: str | None = None
    status: str | None = None
    last_update_time: str | None = Field(default=None, alias="lastUpdateTime")
    trigger_methods: TriggerMethods | None = Field(default=None, alias="triggerMethods")
    versions: list[WorkflowVersion] = Field(default_factory=list)


# -- data management -----------------------------------------------------------------
class DeviceDeletion(_Input):
    uid: UUIDStr
    name: str | None = None


class DeviceDeletionResult(BaseModel):
    uid: str
    name: str | None = None
    status: Literal["SCHEDULED", "INVALID", "FAILED"] | str
