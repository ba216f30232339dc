"""Online code runner (brief #15): untrusted Python and JavaScript in bubblewrap sandboxes.

`POST /runner/executions` queues a program (Celery, `runner.execute`); the worker runs it in
a sandbox (`apps.runner.sandbox`: bubblewrap, or docker where an engine answers; never
unsandboxed, 503 when none works) and writes the line running now and the output so far to
the row every RUNNER_PROGRESS_INTERVAL_S; `GET` and the `/stream` socket read it from there.
"""

from litestar import Router

from apps.runner.routes import ExecutionController
from apps.runner.stream import stream_execution

router = Router(
    path="/runner", route_handlers=[ExecutionController, stream_execution], tags=["runner"]
)

__all__ = ["router"]
