"""Battleship tables: one row per game holding its whole state, rewritten after every move.

`version` rises by one with every write and each write is conditional on the version read,
so two processes can never both apply a move to the same game. Seat tokens are stored as
SHA-256 hashes: the database alone cannot take over a seat.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from apps.kernel.db import Base


class BattleshipGame(Base):
    """A game: lobby code, phase, the engine's state as JSON and the seats' token hashes."""

    __tablename__ = "battleship_game"
    __table_args__ = (Index("ix_battleship_game_phase_public", "phase", "public"),)

    code: Mapped[str] = mapped_column(String(8), unique=True)
    phase: Mapped[str] = mapped_column(String(10), default="waiting")
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    host_name: Mapped[str] = mapped_column(String(32), default="")
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=0)
    seat0_token: Mapped[str] = mapped_column(String(64))
    seat1_token: Mapped[str | None] = mapped_column(String(64), default=None)
