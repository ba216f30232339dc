"""The live socket `/runner/executions/{id}/stream`: output, line and status as they happen.

The worker writes progress to the execution's row every RUNNER_PROGRESS_INTERVAL_S; the
socket tails the row at the same pace and pushes only what changed, so it works whichever
process runs the sandbox. Sign in with the subprotocol pair `bearer, <access token>`.

Server frames (JSON): {"type":"status","status":...}, {"type":"line","line":N},
{"type":"stdout"|"stderr","data":"..."} and last {"type":"result","execution":{...}},
then close 1000. Close codes: 4401 bad token, 4404 not mine or no such execution.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from apps.kernel import db
from apps.kernel.errors import NotFound, Unauthorized
from apps.kernel.realtime import socket_user
from apps.runner.services import FINAL_STATUSES, ExecutionService, execution_read
from apps.runner.worker import progress_interval

UNAUTHORIZED, NOT_FOUND = 4401, 4404


class StreamState:
    """What this client was already sent."""

    def __init__(self) -> None:
        self.status: str | None = None
        self.line: int | None = None
        self.sent = {"stdout": 0, "stderr": 0}


def changes(state: StreamState, read: Any) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    if read.status != state.status:
        state.status = read.status
        frames.append({"type": "status", "status": read.status})
    for stream in ("stdout", "stderr"):
        text = getattr(read, stream)
        if len(text) > state.sent[stream]:
            frames.append({"type": stream, "data": text[state.sent[stream] :]})
            state.sent[stream] = len(text)
    if read.current_line is not None and read.current_line != state.line:
        state.line = read.current_line
        frames.append({"type": "line", "line": read.current_line})
    return frames


@websocket("/executions/{execution_id:uuid}/stream", operation_id="StreamExecution")
async def stream_execution(socket: WebSocket[Any, Any, Any], execution_id: UUID) -> None:
    """Live stdout/stderr chunks, line and status events of one of my executions."""
    try:
        user, protocol = await socket_user(socket)
        if user is None:
            raise Unauthorized("Sign in: offer the subprotocols `bearer, <access token>`")
        async with db.session() as session:
            await ExecutionService(session).get(user.id, execution_id)
    except Unauthorized as exc:
        await socket.close(code=UNAUTHORIZED, reason=exc.detail[:120])
        return
    except NotFound as exc:
        await socket.close(code=NOT_FOUND, reason=exc.detail[:120])
        return
    await socket.accept(subprotocols=protocol)
    state = StreamState()
    try:
        while True:
            async with db.session() as session:
                read = execution_read(await ExecutionService(session).get(user.id, execution_id))
            for frame in changes(state, read):
                await socket.send_text(msgspec.json.encode(frame).decode())
            if read.status in FINAL_STATUSES:
                result = {"type": "result", "execution": msgspec.to_builtins(read)}
                await socket.send_text(msgspec.json.encode(result).decode())
                break
            await asyncio.sleep(progress_interval())
    except WebSocketDisconnect:
        return
    with contextlib.suppress(Exception):
        await socket.close(code=1000)
