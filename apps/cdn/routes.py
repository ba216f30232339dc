"""Origin routes (what the edges fetch) and the admin API (upload, change, delete, purge)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import Parameter

from apps.cdn import services
from apps.cdn.schemas import ObjectRead, PurgeRequest, PurgeResult
from apps.cdn.settings import get_origin_settings
from apps.kernel.identity import requires_admin
from apps.kernel.storage import get_storage


def _read(obj: services.OriginObject, purge: PurgeResult | None = None) -> ObjectRead:
    return ObjectRead(
        id=obj.id,
        path=obj.path,
        size=len(obj.data),
        content_type=obj.content_type,
        etag=obj.etag,
        last_modified=obj.last_modified,
        source=obj.source,
        purge=purge,
    )


class OriginController(Controller):
    path = "/origin"

    @get("/objects/{object_id:str}", operation_id="CdnOriginObject", sync_to_thread=False)
    def object(
        self,
        object_id: str,
        if_none_match: str | None = Parameter(header="If-None-Match", default=None),
        if_modified_since: str | None = Parameter(header="If-Modified-Since", default=None),
    ) -> Response[bytes]:
        """One object with Cache-Control, ETag and Last-Modified; 304 when still valid."""
        obj = services.find_object(object_id, get_storage(), get_origin_settings())
        if services.not_modified(obj, if_none_match, if_modified_since):
            return Response(b"", status_code=304, headers=obj.headers())
        return Response(obj.data, media_type=obj.content_type, headers=obj.headers())


class AdminController(Controller):
    guards = [requires_admin]

    @put("/objects/{object_id:str}", operation_id="CdnPutObject", status_code=200)
    async def put_object(self, object_id: str, request: Request[Any, Any, Any]) -> ObjectRead:
        """Upload or change an object (raw body, its Content-Type); purges it from every edge."""
        data = await request.body()
        content_type = request.headers.get("Content-Type", "")
        obj = services.store_object(object_id, data, content_type, get_storage())
        edges = get_origin_settings()
        return _read(obj, await services.purge_edges([obj.path], edges.edges, edges.edge_caches))

    @delete("/objects/{object_id:str}", operation_id="CdnDeleteObject", status_code=200)
    async def delete_object(self, object_id: str) -> PurgeResult:
        """Remove an upload (a catalogue id falls back to its generated object) and purge it."""
        services.delete_upload(object_id, get_storage())
        path = services.ORIGIN_PREFIX + object_id
        settings = get_origin_settings()
        return await services.purge_edges([path], settings.edges, settings.edge_caches)

    @post("/purge", operation_id="CdnPurge", status_code=200)
    async def purge(self, data: PurgeRequest) -> PurgeResult:
        """Purge one path, or every known object path under a prefix, from every edge."""
        settings = get_origin_settings()
        paths = services.purge_paths(data.path, data.prefix, get_storage(), settings)
        return await services.purge_edges(paths, settings.edges, settings.edge_caches)
