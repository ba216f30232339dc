"""Todo list API (brief #2): each user's tasks with status, priority, due dates and filters."""

from litestar import Router

from apps.todo.routes import TaskController

router = Router(path="/todo", route_handlers=[TaskController], tags=["todo"])

__all__ = ["router"]
