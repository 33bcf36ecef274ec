"""The worker loops of :meth:`DeviceClient.run` and :meth:`AsyncDeviceClient.run`:
only I/O (claim, extend, complete, sleep, run the handler) around the one
I/O-free :class:`WorkerState` that decides everything else.

Waits use the client's ``clock`` and ``sleep``. With the real ``sleep`` a
``stop`` cuts a wait short; with one of your own (a fake clock's, in tests)
the stop is seen when the wait ends. The keeper that extends the batch's
claims is a timer beside the handler (a thread, or a task): it waits in real
time for as long as the client's clock says is left until the next extension.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sdk_core import APIConnectionError, APIStatusError

from ._models import ClaimedCommand
from ._worker import Outcome, WorkerSettings, WorkerState, WorkerStats

if TYPE_CHECKING:
    from ._device import AsyncDeviceClient, DeviceClient

__all__ = ["AsyncHandler", "Handler", "run_async", "run_sync"]

Handler = Callable[[ClaimedCommand], Any]
AsyncHandler = Callable[[ClaimedCommand], Awaitable[Any] | Any]
SENT = (APIStatusError, APIConnectionError)
"""What a call that reached (or tried to reach) the gateway may raise."""


def _state(client: DeviceClient | AsyncDeviceClient, settings: WorkerSettings) -> WorkerState:
    return WorkerState(
        settings,
        retry_statuses=client.retry_policy.retry_statuses,
        clock=client.clock,
        rand=client.rand,
    )


# ======================================================================= sync
def run_sync(
    client: DeviceClient, handler: Handler, settings: WorkerSettings, stop: threading.Event
) -> WorkerStats:
    state = _state(client, settings)
    while state.running(stop.is_set()):
        try:
            commands = client.claim(
                state.want(), visibility_timeout_ms=settings.visibility_timeout_ms
            )
        except SENT as exc:
            wait = state.claim_failed(exc)
            if wait is None:
                raise
            _pause(client, wait, stop)
            continue
        idle = state.claimed(commands)
        if idle is not None:
            _pause(client, idle, stop)
            continue
        done = threading.Event()
        keeper = threading.Thread(
            target=_keep, args=(client, state, done), name="gateway-claims", daemon=True
        )
        keeper.start()
        try:
            while (command := state.next_command(stop.is_set())) is not None:
                _submit(client, state, command, _handle(state, handler, command))
        finally:
            done.set()
            keeper.join()
        for command in state.hand_back():
            with contextlib.suppress(*SENT):
                client.extend(command, extension_ms=1)
    return state.stats


def _pause(client: DeviceClient, seconds: float, stop: threading.Event) -> None:
    if seconds <= 0:
        return
    if client.sleep is time.sleep:  # real time: a stop cuts the wait short
        stop.wait(seconds)
    else:
        client.sleep(seconds)


def _keep(client: DeviceClient, state: WorkerState, done: threading.Event) -> None:
    while not done.wait(state.keeper_wait()):
        for command in state.due():
            sent = state.extending()
            try:
                client.extend(command, extension_ms=state.extension_ms)
            except SENT as exc:
                state.not_extended(command, exc, sent)
            else:
                state.extended(command, sent)


def _handle(state: WorkerState, handler: Handler, command: ClaimedCommand) -> Outcome:
    started = state.started()
    try:
        value = handler(command)
    except Exception as exc:
        return state.failed(started, exc)
    return state.succeeded(started, value)


def _submit(
    client: DeviceClient, state: WorkerState, command: ClaimedCommand, outcome: Outcome
) -> None:
    while True:
        try:
            client.complete(
                command, outcome.status, output=outcome.output, error=outcome.error,
                duration=outcome.duration,
            )  # fmt: skip
        except SENT as exc:
            wait = state.result_failed(command, exc)
            if wait is None:
                return
            client.sleep(wait)  # not cut short by a stop: the result deserves its chance
        else:
            state.result_in(command, outcome)
            return


# ======================================================================= async
async def run_async(
    client: AsyncDeviceClient,
    handler: AsyncHandler,
    settings: WorkerSettings,
    stop: asyncio.Event,
) -> WorkerStats:
    state = _state(client, settings)
    while state.running(stop.is_set()):
        try:
            commands = await client.claim(
                state.want(), visibility_timeout_ms=settings.visibility_timeout_ms
            )
        except SENT as exc:
            wait = state.claim_failed(exc)
            if wait is None:
                raise
            await _apause(client, wait, stop)
            continue
        idle = state.claimed(commands)
        if idle is not None:
            await _apause(client, idle, stop)
            continue
        keeper = asyncio.create_task(_akeep(client, state))
        try:
            while (command := state.next_command(stop.is_set())) is not None:
                outcome = await _ahandle(state, handler, command)
                await _asubmit(client, state, command, outcome)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        for command in state.hand_back():
            with contextlib.suppress(*SENT):
                await client.extend(command, extension_ms=1)
    return state.stats


async def _apause(client: AsyncDeviceClient, seconds: float, stop: asyncio.Event) -> None:
    if seconds <= 0:
        return
    if client.sleep is asyncio.sleep:  # real time: a stop cuts the wait short
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
    else:
        await client.sleep(seconds)


async def _akeep(client: AsyncDeviceClient, state: WorkerState) -> None:
    while True:  # cancelled when the batch ends
        await asyncio.sleep(state.keeper_wait())
        for command in state.due():
            sent = state.extending()
            try:
                await client.extend(command, extension_ms=state.extension_ms)
            except SENT as exc:
                state.not_extended(command, exc, sent)
            else:
                state.extended(command, sent)


async def _ahandle(state: WorkerState, handler: AsyncHandler, command: ClaimedCommand) -> Outcome:
    started = state.started()
    try:
        if inspect.iscoroutinefunction(handler):
            value = await handler(command)
        else:
            value = await asyncio.to_thread(handler, command)
            if inspect.isawaitable(value):
                value = await value
    except Exception as exc:
        return state.failed(started, exc)
    return state.succeeded(started, value)


async def _asubmit(
    client: AsyncDeviceClient, state: WorkerState, command: ClaimedCommand, outcome: Outcome
) -> None:
    while True:
        try:
            await client.complete(
                command, outcome.status, output=outcome.output, error=outcome.error,
                duration=outcome.duration,
            )  # fmt: skip
        except SENT as exc:
            wait = state.result_failed(command, exc)
            if wait is None:
                return
            await client.sleep(wait)
        else:
            state.result_in(command, outcome)
            return
