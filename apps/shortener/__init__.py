"""URL shortener (brief #6): short codes and aliases, catch-all redirects, stats, QR, import."""

from litestar import Router

from apps.shortener.routes import LinkController, follow_link

router = Router(path="/shortener", route_handlers=[LinkController], tags=["shortener"])
root_router = Router(path="/", route_handlers=[follow_link])

__all__ = ["root_router", "router"]
