"""Battleship (brief #13): a server-authoritative multiplayer game over a WebSocket, and a bot.

`/battleship/ws` carries the lobby (create, list, join by code, quick match), placement of
the standard fleet, turns and shots; every state sent is filtered for its receiver, so the
opponent's unhit ships never leave the server. Games are saved after every move and resumed
after a restart; a dropped player has a grace period to take the seat back with its token.
`stackyard battleship play [--vs-bot]` plays it in the terminal.
"""

from litestar import Router

from apps.battleship.routes import battleship_socket

router = Router(path="/battleship", route_handlers=[battleship_socket], tags=["battleship"])

__all__ = ["router"]
