"""``client.users`` and ``client.roles``."""

from __future__ import annotations

import builtins
import functools
from collections.abc import Sequence
from typing import Any, Unpack

from sdk_core import (
    NOT_GIVEN,
    AsyncPageRequest,
    MutationOverrides,
    NotGiven,
    RequestOptions,
    RequestOverrides,
    SyncPage,
    async_to_raw_response_wrapper,
    to_raw_response_wrapper,
)

from .. import _requests as req
from .._models import Order, Role, User, UserStatus
from ._base import AsyncResource, SyncResource

ME = "/api/users/me/profile"


def _path(user_id: int | str) -> str:
    return f"/api/users/{req.path_id(user_id, 'user_id')}"


def _user_fields(**fields: Any) -> dict[str, Any]:
    roles = fields.get("roles")
    if roles is not None and not isinstance(roles, NotGiven):
        fields["roles"] = list(roles)
    return fields


class Users(SyncResource):
    def list(
        self,
        *,
        status: UserStatus | NotGiven = NOT_GIVEN,
        search: str | NotGiven = NOT_GIVEN,
        page: int | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        sort: str | NotGiven | None = NOT_GIVEN,
        order: Order | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[User]:
        params = req.list_params(
            page=page, limit=limit, sort=sort, order=order,
            status=req.user_status(status), search=search,
        )  # fmt: skip
        return self._list("/api/users", User, params, options)

    def get(self, user_id: int | str, **options: Unpack[RequestOverrides]) -> User:
        return self._data(req.get(_path(user_id)), User, options)

    def create(
        self,
        *,
        username: str,
        email: str,
        password: str,
        first_name: str | NotGiven = NOT_GIVEN,
        last_name: str | NotGiven = NOT_GIVEN,
        roles: Sequence[str] | NotGiven = NOT_GIVEN,
        status: UserStatus | NotGiven = NOT_GIVEN,
        **options: Unpack[MutationOverrides],
    ) -> User:
        fields = _user_fields(
            username=username, email=email, password=password, first_name=first_name,
            last_name=last_name, roles=roles, status=status,
        )  # fmt: skip
        return self._data(req.user_create_request(fields), User, options)

    def update(
        self,
        user_id: int | str,
        *,
        username: str,
        email: str,
        first_name: str | NotGiven | None = NOT_GIVEN,
        last_name: str | NotGiven | None = NOT_GIVEN,
        roles: Sequence[str] | NotGiven = NOT_GIVEN,
        status: UserStatus | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> User:
        fields = _user_fields(
            username=username, email=email, first_name=first_name, last_name=last_name,
            roles=roles, status=status,
        )  # fmt: skip
        return self._data(req.user_update_request(_path(user_id), fields), User, options)

    def delete(self, user_id: int | str, **options: Unpack[RequestOverrides]) -> None:
        self._none(RequestOptions(method="DELETE", url=_path(user_id)), options)

    def me(self, **options: Unpack[RequestOverrides]) -> User:
        """The signed-in user's profile."""
        return self._data(req.get(ME), User, options)

    def update_me(
        self,
        *,
        email: str | NotGiven = NOT_GIVEN,
        first_name: str | NotGiven | None = NOT_GIVEN,
        last_name: str | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> User:
        fields = {"email": email, "first_name": first_name, "last_name": last_name}
        return self._data(req.profile_update_request(fields), User, options)

    @functools.cached_property
    def with_raw_response(self) -> UsersWithRawResponse:
        return UsersWithRawResponse(self)


class AsyncUsers(AsyncResource):
    def list(
        self,
        *,
        status: UserStatus | NotGiven = NOT_GIVEN,
        search: str | NotGiven = NOT_GIVEN,
        page: int | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        sort: str | NotGiven | None = NOT_GIVEN,
        order: Order | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[User]:
        params = req.list_params(
            page=page, limit=limit, sort=sort, order=order,
            status=req.user_status(status), search=search,
        )  # fmt: skip
        return self._list("/api/users", User, params, options)

    async def get(self, user_id: int | str, **options: Unpack[RequestOverrides]) -> User:
        return await self._data(req.get(_path(user_id)), User, options)

    async def create(
        self,
        *,
        username: str,
        email: str,
        password: str,
        first_name: str | NotGiven = NOT_GIVEN,
        last_name: str | NotGiven = NOT_GIVEN,
        roles: Sequence[str] | NotGiven = NOT_GIVEN,
        status: UserStatus | NotGiven = NOT_GIVEN,
        **options: Unpack[MutationOverrides],
    ) -> User:
        fields = _user_fields(
            username=username, email=email, password=password, first_name=first_name,
            last_name=last_name, roles=roles, status=status,
        )  # fmt: skip
        return await self._data(req.user_create_request(fields), User, options)

    async def update(
        self,
        user_id: int | str,
        *,
        username: str,
        email: str,
        first_name: str | NotGiven | None = NOT_GIVEN,
        last_name: str | NotGiven | None = NOT_GIVEN,
        roles: Sequence[str] | NotGiven = NOT_GIVEN,
        status: UserStatus | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> User:
        fields = _user_fields(
            username=username, email=email, first_name=first_name, last_name=last_name,
            roles=roles, status=status,
        )  # fmt: skip
        return await self._data(req.user_update_request(_path(user_id), fields), User, options)

    async def delete(self, user_id: int | str, **options: Unpack[RequestOverrides]) -> None:
        await self._none(RequestOptions(method="DELETE", url=_path(user_id)), options)

    async def me(self, **options: Unpack[RequestOverrides]) -> User:
        return await self._data(req.get(ME), User, options)

    async def update_me(
        self,
        *,
        email: str | NotGiven = NOT_GIVEN,
        first_name: str | NotGiven | None = NOT_GIVEN,
        last_name: str | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> User:
        fields = {"email": email, "first_name": first_name, "last_name": last_name}
        return await self._data(req.profile_update_request(fields), User, options)

    @functools.cached_property
    def with_raw_response(self) -> AsyncUsersWithRawResponse:
        return AsyncUsersWithRawResponse(self)


class Roles(SyncResource):
    def list(
        self,
        *,
        page: int | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        sort: str | NotGiven | None = NOT_GIVEN,
        order: Order | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> SyncPage[Role]:
        params = req.list_params(page=page, limit=limit, sort=sort, order=order)
        return self._list("/api/roles", Role, params, options)

    def permissions(self, **options: Unpack[RequestOverrides]) -> builtins.list[str]:
        """Every permission any role grants (``cluster:read``, ``user:create``...), sorted."""
        return sorted({p for role in self.list(**options) for p in role.permissions})

    @functools.cached_property
    def with_raw_response(self) -> RolesWithRawResponse:
        return RolesWithRawResponse(self)


class AsyncRoles(AsyncResource):
    def list(
        self,
        *,
        page: int | NotGiven | None = NOT_GIVEN,
        limit: int | NotGiven | None = NOT_GIVEN,
        sort: str | NotGiven | None = NOT_GIVEN,
        order: Order | NotGiven | None = NOT_GIVEN,
        **options: Unpack[RequestOverrides],
    ) -> AsyncPageRequest[Role]:
        params = req.list_params(page=page, limit=limit, sort=sort, order=order)
        return self._list("/api/roles", Role, params, options)

    async def permissions(self, **options: Unpack[RequestOverrides]) -> builtins.list[str]:
        return sorted({p async for role in self.list(**options) for p in role.permissions})

    @functools.cached_property
    def with_raw_response(self) -> AsyncRolesWithRawResponse:
        return AsyncRolesWithRawResponse(self)


class UsersWithRawResponse:
    def __init__(self, users: Users) -> None:
        self.list = to_raw_response_wrapper(users.list)
        self.get = to_raw_response_wrapper(users.get)
        self.create = to_raw_response_wrapper(users.create)
        self.update = to_raw_response_wrapper(users.update)
        self.delete = to_raw_response_wrapper(users.delete)
        self.me = to_raw_response_wrapper(users.me)
        self.update_me = to_raw_response_wrapper(users.update_me)


class AsyncUsersWithRawResponse:
    def __init__(self, users: AsyncUsers) -> None:
        self.list = async_to_raw_response_wrapper(users.list)
        self.get = async_to_raw_response_wrapper(users.get)
        self.create = async_to_raw_response_wrapper(users.create)
        self.update = async_to_raw_response_wrapper(users.update)
        self.delete = async_to_raw_response_wrapper(users.delete)
        self.me = async_to_raw_response_wrapper(users.me)
        self.update_me = async_to_raw_response_wrapper(users.update_me)


class RolesWithRawResponse:
    def __init__(self, roles: Roles) -> None:
        self.list = to_raw_response_wrapper(roles.list)


class AsyncRolesWithRawResponse:
    def __init__(self, roles: AsyncRoles) -> None:
        self.list = async_to_raw_response_wrapper(roles.list)
