"""KubeNexus's state, I/O-free: users with hashed passwords, roles and their
permissions, API keys, clusters, alerts, the SRE agent's findings and the
webhooks; lists filtered, sorted and cut into the envelope's pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import math
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..._errors import Conflict, InvalidInput, NotFound

__all__ = ["Page", "Store", "hash_password", "iso", "page_of", "password_matches"]

Record = dict[str, Any]

PROVIDERS = {"eks": "aws", "gke": "gcp", "aks": "azure", "on_premise": None}
_ITERATIONS = 20_000  # PBKDF2 rounds: seed passwords are test data, logins should stay fast


def iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _ITERATIONS)
    return f"{salt.hex()}${digest.hex()}"


def password_matches(stored: str, password: str) -> bool:
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(stored, hash_password(password, bytes.fromhex(salt)))


class Page:
    """One page of a list, as the envelope carries it."""

    def __init__(self, items: list[Record], page: int, limit: int, total: int) -> None:
        self.items = items
        self.pagination = {
            "page": page,
            "limit": limit,
            "total": total,
            "pages": math.ceil(total / limit),
            "has_next": page * limit < total,
            "has_prev": page > 1,
        }


def page_of(
    records: Iterable[Record], *, page: int, limit: int, sort: str | None, order: str
) -> Page:
    rows = list(records)
    if sort is not None:
        if rows and not any(sort in r for r in rows):
            raise InvalidInput(f"sort: cannot sort by {sort!r}", {"field": "sort"})
        present = [r for r in rows if r.get(sort) is not None]
        missing = [r for r in rows if r.get(sort) is None]
        present.sort(key=lambda r: (str(type(r[sort])), r[sort]), reverse=order == "desc")
        rows = present + missing
    elif order == "desc":
        rows.reverse()
    start = (page - 1) * limit
    return Page(rows[start : start + limit], page, limit, len(rows))


class Table:
    """Records by integer id, in the order they were made."""

    def __init__(self, rows: Iterable[Mapping[str, Any]], kind: str, code: str) -> None:
        self.rows: dict[int, Record] = {}
        self.kind, self.code = kind, code
        for row in rows:
            record = dict(row)
            self.rows[int(record["id"])] = record
        self._ids = itertools.count(max(self.rows, default=0) + 1)

    def get(self, raw_id: str | int) -> Record:
        try:
            record = self.rows.get(int(raw_id))
        except ValueError:
            record = None
        if record is None:
            raise NotFound(f"{self.kind} {raw_id} not found", code=self.code)
        return record

    def add(self, values: Mapping[str, Any]) -> Record:
        record = {"id": next(self._ids), **values}
        self.rows[record["id"]] = record
        return record

    def delete(self, raw_id: str | int) -> Record:
        record = self.get(raw_id)
        del self.rows[record["id"]]
        return record

    def where(self, **filters: Callable[[Record], bool] | Any) -> list[Record]:
        """The records matching every given filter: a value to equal, or a predicate."""
        out = []
        for record in self.rows.values():
            ok = True
            for field, wanted in filters.items():
                if wanted is None:
                    continue
                if callable(wanted):
                    ok = bool(wanted(record))
                else:
                    ok = str(record.get(field)) == str(wanted)
                if not ok:
                    break
            if ok:
                out.append(record)
        return out


class Store:
    def __init__(self, seed: Mapping[str, Any], clock: Callable[[], float]) -> None:
        self.clock = clock
        self.roles = Table(
            ({"id": i, **r} for i, r in enumerate(seed.get("roles", ()), 1)), "role", "NOT_FOUND"
        )
        self.users = Table((), "user", "USER_NOT_FOUND")
        self.passwords: dict[int, str] = {}
        for raw in seed.get("users", ()):
            user = {k: v for k, v in raw.items() if k not in ("password", "api_keys")}
            record = self.users.add({"status": "active", "roles": [], **user})
            self.passwords[record["id"]] = hash_password(raw["password"])
        self.api_keys: dict[str, int] = {}  # hash of the key -> user id
        self.clusters = Table(seed.get("clusters", ()), "cluster", "CLUSTER_NOT_FOUND")
        self.alerts = Table(seed.get("alerts", ()), "alert", "ALERT_NOT_FOUND")
        self.anomalies = Table(seed.get("anomalies", ()), "anomaly", "ANOMALY_NOT_FOUND")
        self.recommendations = Table(
            seed.get("recommendations", ()), "recommendation", "RECOMMENDATION_NOT_FOUND"
        )
        self.problems = Table(seed.get("problems", ()), "problem", "PROBLEM_NOT_FOUND")
        self.webhooks = Table((), "webhook", "WEBHOOK_NOT_FOUND")
        self.secrets: dict[int, str] = {}  # webhook id -> its signing secret

    # -- users and roles -----------------------------------------------------------------
    def user_by_name(self, username: str) -> Record | None:
        found = self.users.where(username=username)
        return found[0] if found else None

    def permissions(self, user: Record) -> set[str]:
        granted: set[str] = set()
        for role in self.roles.rows.values():
            if role["name"] in user.get("roles", ()):
                granted.update(role.get("permissions", ()))
        return granted

    def new_user(self, values: Mapping[str, Any]) -> Record:
        if self.user_by_name(values["username"]) is not None:
            raise Conflict(f"username {values['username']!r} is taken", code="USER_EXISTS")
        self._known_roles(values.get("roles", ()))
        fields = {k: v for k, v in values.items() if k != "password"}
        record = self.users.add(
            {"status": "active", "roles": [], "first_name": None, "last_name": None, **fields}
        )
        self.passwords[record["id"]] = hash_password(values["password"])
        return record

    def update_user(self, user: Record, values: Mapping[str, Any]) -> Record:
        other = self.user_by_name(values.get("username", user["username"]))
        if other is not None and other["id"] != user["id"]:
            raise Conflict(f"username {values['username']!r} is taken", code="USER_EXISTS")
        self._known_roles(values.get("roles", ()))
        user.update(values)
        return user

    def _known_roles(self, names: Iterable[str]) -> None:
        known = {r["name"] for r in self.roles.rows.values()}
        unknown = sorted(set(names) - known)
        if unknown:
            raise InvalidInput(f"roles: no role {unknown[0]!r}", {"field": "roles"})

    # -- clusters -----------------------------------------------------------------------
    def new_cluster(self, values: Mapping[str, Any]) -> Record:
        if self.clusters.where(name=values["name"]):
            raise Conflict(f"a cluster named {values['name']!r} exists", code="CLUSTER_EXISTS")
        now = iso(self.clock())
        return self.clusters.add(
            {
                "description": None,
                "region": None,
                "cloud_provider_id": None,
                "tags": {},
                **values,
                "status": "active",
                "provider": PROVIDERS[values["cluster_type"]],
                "version": "1.29.4",
                "node_count": 3,
                "ready_nodes": 3,
                "created_at": now,
                "updated_at": now,
            }
        )

    def change_cluster(self, cluster: Record, values: Mapping[str, Any]) -> Record:
        named = self.clusters.where(name=values.get("name", cluster["name"]))
        if any(c["id"] != cluster["id"] for c in named):
            raise Conflict(f"a cluster named {values['name']!r} exists", code="CLUSTER_EXISTS")
        cluster.update(values)
        if "cluster_type" in values:
            cluster["provider"] = PROVIDERS[values["cluster_type"]]
        cluster["updated_at"] = iso(self.clock())
        return cluster

    def health(self, cluster: Record) -> Record:
        nodes = int(cluster.get("node_count") or 0)
        ready = int(cluster.get("ready_nodes", nodes))
        errors = [f"{nodes - ready} of {nodes} nodes not ready"] if ready < nodes else []
        warnings = ["no nodes"] if nodes == 0 else []
        healthy = not errors and nodes > 0
        cluster["status"] = "active" if healthy else "degraded"
        return {
            "cluster_id": cluster["id"],
            "status": "healthy" if healthy else "unhealthy",
            "healthy": healthy,
            "node_count": nodes,
            "ready_nodes": ready,
            "version": cluster.get("version") or "",
            "last_check": iso(self.clock()),
            "errors": errors,
            "warnings": warnings,
        }

    def raise_alert(self, cluster: Record, message: str) -> Record | None:
        """A new open alert for an unhealthy cluster, unless one is open already."""
        if self.alerts.where(cluster_id=cluster["id"], status="open"):
            return None
        return self.alerts.add(
            {
                "title": f"Cluster {cluster['name']} is unhealthy",
                "severity": "high",
                "status": "open",
                "cluster_id": cluster["id"],
                "message": message,
                "created_at": iso(self.clock()),
                "acknowledged_at": None,
            }
        )

    def view_cluster(self, cluster: Record) -> Record:
        return {
            k: v for k, v in cluster.items() if k not in ("kubeconfig", "ready_nodes", "metrics")
        }
