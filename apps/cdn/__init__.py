"""CDN (brief #17): an origin with a generated catalogue, nginx edges, HAProxy, a simulator.

The origin serves `/cdn/origin/objects/{id}` with Cache-Control, ETag, Last-Modified and 304s;
the admin API uploads, changes and purges objects on every edge. `stackyard cdn up` runs a real
local CDN (nginx edge caches behind HAProxy, latency proxies between them); `stackyard cdn
simulate` is a discrete-event model of the same CDN (apps/cdn/simulate.py).
"""

from litestar import Router

from apps.cdn.routes import AdminController, OriginController
from apps.cdn.settings import get_origin_settings

get_origin_settings()  # a bad STACKYARD_CDN_* value stops the server at start

router = Router(path="/cdn", route_handlers=[OriginController, AdminController], tags=["cdn"])

__all__ = ["router"]
