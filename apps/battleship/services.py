"""Storing games: insert, conditional save after every move, load by code, list open games.

Every function opens its own short session: the game actors call them while holding their
lock, and a move is acknowledged to the players only after its save has committed.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update

from apps.battleship.engine import Game
from apps.battleship.models import BattleshipGame
from apps.kernel import db

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class StoredGame:
    """A game row as the server needs it."""

    id: UUID
    game: Game
    version: int
    public: bool
    tokens: list[str | None]


@dataclass(frozen=True)
class OpenGame:
    code: str
    host: str
    created_at: datetime


async def insert_game(game: Game, host_token: str, *, public: bool) -> StoredGame:
    async with db.session() as session:
        row = BattleshipGame(
            code=game.code,
            phase=game.phase,
            public=public,
            host_name=game.names[0],
            state=game.to_dict(),
            version=0,
            seat0_token=token_hash(host_token),
        )
        session.add(row)
        await session.flush()
        return StoredGame(row.id, game, 0, public, [row.seat0_token, None])


def _save_statement(stored: StoredGame, state: dict[str, Any]) -> Any:
    return (
        update(BattleshipGame)
        .where(BattleshipGame.id == stored.id, BattleshipGame.version == stored.version)
        .values(
            state=state,
            phase=state["phase"],
            version=stored.version + 1,
            updated_at=datetime.now(UTC),
            seat1_token=stored.tokens[1],
        )
    )


async def save(stored: StoredGame, state: dict[str, Any]) -> bool:
    """Write `state` if nobody else wrote since `stored.version`; bumps the version on success."""
    return (await save_many([(stored, state)]))[0]


async def save_many(saves: list[tuple[StoredGame, dict[str, Any]]]) -> list[bool]:
    """Several games' conditional writes in one transaction (one commit, one fsync)."""
    async with db.session() as session:
        saved = []
        for stored, state in saves:
            result = await session.execute(_save_statement(stored, state))
            saved.append(result.rowcount == 1)  # type: ignore[attr-defined]
    for (stored, _), ok in zip(saves, saved, strict=True):
        if ok:
            stored.version += 1
    return saved


class GroupCommit:
    """Saves from every room of a process, committed together while the previous commit runs.

    Each caller still waits for its own commit before it announces the move, so "saved after
    every move" holds; under load many games share one transaction instead of one each.
    """

    def __init__(self, max_batch: int = 256) -> None:
        self.max_batch = max_batch
        self.pending: list[tuple[StoredGame, dict[str, Any], asyncio.Future[bool]]] = []
        self.wake = asyncio.Event()
        self.worker: asyncio.Task[None] | None = None

    async def save(self, stored: StoredGame, state: dict[str, Any]) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.pending.append((stored, state, future))
        if self.worker is None or self.worker.done():
            self.worker = asyncio.create_task(self._run())
        self.wake.set()
        return await future

    async def _run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.pending:
                batch = self.pending[: self.max_batch]
                del self.pending[: self.max_batch]
                try:
                    results = await save_many([(stored, state) for stored, state, _ in batch])
                except Exception as exc:
                    for *_, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (*_, future), ok in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(ok)


async def load(code: str) -> StoredGame | None:
    async with db.session() as session:
        row = await session.scalar(select(BattleshipGame).where(BattleshipGame.code == code))
        if row is None:
            return None
        return StoredGame(
            row.id,
            Game.from_dict(row.state),
            row.version,
            row.public,
            [row.seat0_token, row.seat1_token],
        )


async def open_games(limit: int = 20) -> list[OpenGame]:
    """Public games waiting for a second player, oldest first."""
    async with db.session() as session:
        rows = await session.execute(
            select(BattleshipGame.code, BattleshipGame.host_name, BattleshipGame.created_at)
            .where(BattleshipGame.phase == "waiting", BattleshipGame.public.is_(True))
            .order_by(BattleshipGame.created_at)
            .limit(limit)
        )
        return [OpenGame(code, host, created) for code, host, created in rows]


async def unfinished_codes(limit: int = 10_000) -> list[str]:
    """Codes of games not finished yet (after a restart, their players may never come back)."""
    async with db.session() as session:
        rows = await session.scalars(
            select(BattleshipGame.code)
            .where(BattleshipGame.phase != "finished")
            .order_by(BattleshipGame.updated_at)
            .limit(limit)
        )
        return list(rows)
