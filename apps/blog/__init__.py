"""Personal blogging platform (brief #1): articles with tags, public reading, author writing."""

from litestar import Router

from apps.blog.routes import ArticleController, TagController

router = Router(path="/blog", route_handlers=[ArticleController, TagController], tags=["blog"])

__all__ = ["router"]
