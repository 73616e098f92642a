"""TemplateService: versioned templates of the caller's tenant and previews."""

from __future__ import annotations

from typing import Any

from centrum.interceptors.context import current_principal
from centrum.notification.v1 import template_pb2
from centrum.notification.v1 import template_service_pb2 as ts
from centrum.notification.v1 import template_service_pb2_grpc as ts_grpc
from centrum.services.notification.backend_errors import maps_backend_errors
from centrum.services.notification.paging import decode_token, encode_token, page_size
from centrum.services.notification.rendering import (
    RenderFailure,
    pick_locale,
    render_variant,
    struct_to_dict,
)
from centrum.services.notification.templates import TemplateStore

__all__ = ["TemplateServicer"]


@maps_backend_errors
class TemplateServicer(ts_grpc.TemplateServiceServicer):
    """The gRPC face of the template store."""

    def __init__(self, store: TemplateStore) -> None:
        self._store = store

    async def CreateTemplate(
        self, request: ts.CreateTemplateRequest, context: Any
    ) -> ts.CreateTemplateResponse:
        """Version 1 of a new template."""
        principal = current_principal()
        created = await self._store.create(
            principal.tenant, request.template_id, request.template, principal.subject
        )
        return ts.CreateTemplateResponse(template=created)

    async def GetTemplate(
        self, request: ts.GetTemplateRequest, context: Any
    ) -> ts.GetTemplateResponse:
        """The latest or the asked-for version."""
        found = await self._store.get(
            current_principal().tenant, request.template_id, request.version
        )
        return ts.GetTemplateResponse(template=found)

    async def ListTemplates(
        self, request: ts.ListTemplatesRequest, context: Any
    ) -> ts.ListTemplatesResponse:
        """Latest versions ordered by id, paged."""
        size = page_size(request.page_size)
        found = await self._store.list_latest(
            current_principal().tenant,
            limit=size + 1,
            after_id=decode_token(request.page_token),
            channel=request.channel,
            category=request.category,
        )
        token = encode_token(found[size - 1].id) if len(found) > size else ""
        return ts.ListTemplatesResponse(templates=found[:size], next_page_token=token)

    async def UpdateTemplate(
        self, request: ts.UpdateTemplateRequest, context: Any
    ) -> ts.UpdateTemplateResponse:
        """A new version from the latest with the masked fields replaced."""
        principal = current_principal()
        updated = await self._store.update(
            principal.tenant,
            request.template_id,
            request.template,
            request.update_mask,
            request.expected_version,
            principal.subject,
        )
        return ts.UpdateTemplateResponse(template=updated)

    async def DeleteTemplate(
        self, request: ts.DeleteTemplateRequest, context: Any
    ) -> ts.DeleteTemplateResponse:
        """Deletes every version."""
        await self._store.delete(
            current_principal().tenant, request.template_id, request.expected_version
        )
        return ts.DeleteTemplateResponse()

    async def ListTemplateVersions(
        self, request: ts.ListTemplateVersionsRequest, context: Any
    ) -> ts.ListTemplateVersionsResponse:
        """Every version, newest first, paged."""
        size = page_size(request.page_size)
        position = decode_token(request.page_token)
        found = await self._store.versions(
            current_principal().tenant,
            request.template_id,
            limit=size + 1,
            before_version=int(position) if position.isdigit() else 0,
        )
        token = encode_token(str(found[size - 1].version)) if len(found) > size else ""
        return ts.ListTemplateVersionsResponse(templates=found[:size], next_page_token=token)

    async def PreviewTemplate(
        self, request: ts.PreviewTemplateRequest, context: Any
    ) -> ts.PreviewTemplateResponse:
        """Renders a stored template or a draft; a render error is returned, not raised."""
        if request.WhichOneof("source") == "draft":
            template: template_pb2.Template = request.draft
        else:
            template = await self._store.get(
                current_principal().tenant, request.template_id, request.version
            )
        variables = struct_to_dict(
            request.context if request.HasField("context") else template.example_context
        )
        variables.setdefault("centrum", {"notification_id": "preview", "unsubscribe_url": ""})
        response = ts.PreviewTemplateResponse(
            version=template.version if request.WhichOneof("source") == "template_id" else 0
        )
        try:
            locale = pick_locale(template.locales, request.locale, template.default_locale)
            response.locale = locale
            response.content.CopyFrom(render_variant(template.locales[locale], variables))
        except RenderFailure as failure:
            response.error.CopyFrom(failure.to_proto())
        return response
