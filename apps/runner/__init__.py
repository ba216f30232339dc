"""Online code runner (brief #15): untrusted Python in bubblewrap or docker sandboxes."""

from litestar import Router

from apps.runner.routes import ExecutionController
from apps.runner.stream import stream_execution

router = Router(
    path="/runner", route_handlers=[ExecutionController, stream_execution], tags=["runner"]
)

__all__ = ["router"]
