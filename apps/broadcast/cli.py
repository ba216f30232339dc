"""`broadcast-server start|connect` (also `stackyard broadcast ...`).

Exit codes: 0 stopped cleanly (server on SIGINT/SIGTERM, client on Ctrl-D/Ctrl-C);
1 the server could not listen (port taken, Redis unreachable); 2 bad usage (a bad URL).
"""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

from apps.broadcast.client import BadURL, ClientOptions, run_client
from apps.broadcast.server import ServerOptions, run_server

COMMAND_NAME = "broadcast"

cli = typer.Typer(
    name="broadcast-server",
    help="A WebSocket broadcast room: `start` the server, `connect` a terminal client.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


@cli.command()
def start(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="0 picks a free port."),
    redis: str | None = typer.Option(
        None, "--redis", envvar="REDIS_URL", help="Share the room with every server on this Redis."
    ),
    history: int = typer.Option(50, "--history", min=0, help="Messages replayed to newcomers."),
    channel: str = typer.Option("broadcast", "--channel", help="Room name on the backend."),
    grace: float = typer.Option(
        2.0, "--grace", min=0.0, envvar="BROADCAST_SHUTDOWN_GRACE", help="Shutdown grace, s."
    ),
    ping_interval: float = typer.Option(
        20.0, "--ping-interval", min=0.05, envvar="BROADCAST_PING_INTERVAL"
    ),
    ping_timeout: float = typer.Option(
        20.0, "--ping-timeout", min=0.05, envvar="BROADCAST_PING_TIMEOUT"
    ),
    max_buffer: int = typer.Option(
        1 << 20, "--max-buffer", min=1024, help="Unsent bytes before a client is dropped (1013)."
    ),
    metrics_port: int | None = typer.Option(
        None, "--metrics-port", help="Serve Prometheus metrics on this port too."
    ),
) -> None:
    """Start the server; prints `listening on ws://HOST:PORT/` when it accepts connections."""
    if redis is not None and not redis.startswith(("redis://", "rediss://", "unix://")):
        err.print(f"[red]error:[/] --redis {redis!r} is not a redis:// URL")
        raise typer.Exit(2)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=host)
    options = ServerOptions(
        host=host,
        port=port,
        redis_url=redis,
        history=history,
        channel=channel,
        grace=grace,
        ping_interval=ping_interval,
        ping_timeout=ping_timeout,
        max_buffer=max_buffer,
    )
    try:
        asyncio.run(run_server(options))
    except OSError as exc:
        err.print(f"[red]error:[/] cannot serve on {host}:{port} ({exc.strerror or exc})")
        raise typer.Exit(1) from None
    except Exception as exc:  # Redis refusing at start, say
        err.print(f"[red]error:[/] {type(exc).__name__}: {exc}")
        raise typer.Exit(1) from None


@cli.command()
def connect(
    url: str = typer.Option("ws://127.0.0.1:8765/", "--url", help="The server's ws:// URL."),
    name: str | None = typer.Option(None, "--name", help="Your name in the room."),
    backoff_max: float = typer.Option(
        10.0, "--backoff-max", min=0.05, envvar="BROADCAST_BACKOFF_MAX", help="Longest retry wait."
    ),
) -> None:
    """Join the room: incoming messages print as you type; Ctrl-D or Ctrl-C leaves."""
    options = ClientOptions(
        url=url, name=name, backoff_max=backoff_max, backoff_initial=min(0.5, backoff_max)
    )
    try:
        code = asyncio.run(run_client(options))
    except BadURL as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


def main() -> None:
    cli(prog_name="broadcast-server")


if __name__ == "__main__":
    main()
