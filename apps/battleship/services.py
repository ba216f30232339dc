"""Storing games: insert, conditional save after every move, load by code, list open games.

Every function opens its own short session: the game actors call them while holding their
lock, and a move is acknowledged to the players only after its save has committed.
"""

from __future__ import annotations

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


async def save(stored: StoredGame, state: dict[str, Any]) -> bool:
    """Write `state` if nobody else wrote since `stored.version`; bumps the version on success."""
    values: dict[str, Any] = {
        "state": state,
        "phase": state["phase"],
        "version": stored.version + 1,
        "updated_at": datetime.now(UTC),
        "seat1_token": stored.tokens[1],
    }
    async with db.session() as session:
        result = await session.execute(
            update(BattleshipGame)
            .where(BattleshipGame.id == stored.id, BattleshipGame.version == stored.version)
            .values(**values)
        )
        saved = result.rowcount == 1  # type: ignore[attr-defined]
    if saved:
        stored.version += 1
    return saved


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
