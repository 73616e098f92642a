"""PreferenceService: subscriber preferences, unsubscribe links and the suppression list."""

from __future__ import annotations

from typing import Any

from centrum.interceptors.context import current_principal
from centrum.interceptors.errors import FieldViolation, InvalidArgument, NotFound
from centrum.notification.v1 import preference_pb2
from centrum.notification.v1 import preference_service_pb2 as ps
from centrum.notification.v1 import preference_service_pb2_grpc as ps_grpc
from centrum.services.notification.backend_errors import maps_backend_errors
from centrum.services.notification.convert import set_time, time_of
from centrum.services.notification.paging import decode_token, encode_token, page_size
from centrum.services.notification.preferences import CRITICAL, PreferenceStore, Rule
from centrum.services.notification.sending import UnsubscribeTokens

__all__ = ["PreferenceServicer"]

_UNSUBSCRIBED = preference_pb2.SUPPRESSION_REASON_UNSUBSCRIBED


@maps_backend_errors
class PreferenceServicer(ps_grpc.PreferenceServiceServicer):
    """The gRPC face of the preference store."""

    def __init__(self, store: PreferenceStore, tokens: UnsubscribeTokens) -> None:
        self._store = store
        self._tokens = tokens

    async def _preferences(self, tenant: str, subscriber_id: str) -> preference_pb2.Preferences:
        rules, updated = await self._store.rules(tenant, subscriber_id)
        message = preference_pb2.Preferences(
            subscriber_id=subscriber_id,
            rules=[
                preference_pb2.PreferenceRule(
                    category=r.category,
                    channel=r.channel,  # type: ignore[arg-type]
                    enabled=r.enabled,
                )
                for r in rules
            ],
        )
        set_time(message.update_time, updated)
        return message

    async def GetPreferences(
        self, request: ps.GetPreferencesRequest, context: Any
    ) -> ps.GetPreferencesResponse:
        """A subscriber's rules (none for an unknown subscriber)."""
        found = await self._preferences(current_principal().tenant, request.subscriber_id)
        return ps.GetPreferencesResponse(preferences=found)

    async def UpdatePreferences(
        self, request: ps.UpdatePreferencesRequest, context: Any
    ) -> ps.UpdatePreferencesResponse:
        """Upserts rules by category and channel."""
        tenant = current_principal().tenant
        rules = [Rule(r.category, r.channel, r.enabled) for r in request.rules]
        await self._store.update(tenant, request.subscriber_id, rules, request.replace)
        found = await self._preferences(tenant, request.subscriber_id)
        return ps.UpdatePreferencesResponse(preferences=found)

    async def Unsubscribe(
        self, request: ps.UnsubscribeRequest, context: Any
    ) -> ps.UnsubscribeResponse:
        """Applies a signed unsubscribe token (no credential needed)."""
        try:
            claims = self._tokens.read(request.token)
            tenant, channel = str(claims["tenant"]), int(claims["channel"])
            category = "" if request.all_categories else str(claims.get("category", ""))
        except (ValueError, KeyError, TypeError):
            raise InvalidArgument(
                "the unsubscribe token is invalid",
                reason="INVALID_TOKEN",
                field_violations=[FieldViolation("token", "is not a valid unsubscribe token")],
            ) from None
        if category == CRITICAL:
            category = ""
        if claims.get("subscriber_id"):
            await self._store.update(
                tenant, str(claims["subscriber_id"]), [Rule(category, channel, False)], False
            )
        elif claims.get("address"):
            await self._store.add_suppression(
                tenant,
                channel,
                str(claims["address"]),
                _UNSUBSCRIBED,
                detail="unsubscribe link",
            )
        return ps.UnsubscribeResponse(channel=channel, category=category)  # type: ignore[arg-type]

    async def ListSuppressions(
        self, request: ps.ListSuppressionsRequest, context: Any
    ) -> ps.ListSuppressionsResponse:
        """Suppressed addresses, newest first, paged."""
        size = page_size(request.page_size, maximum=1000)
        found = await self._store.list_suppressions(
            current_principal().tenant,
            limit=size + 1,
            before_id=decode_token(request.page_token),
            channel=request.channel,
            reason=request.reason,
            address=request.address,
        )
        token = encode_token(found[size - 1].id) if len(found) > size else ""
        return ps.ListSuppressionsResponse(suppressions=found[:size], next_page_token=token)

    async def AddSuppression(
        self, request: ps.AddSuppressionRequest, context: Any
    ) -> ps.AddSuppressionResponse:
        """Adds or replaces the suppression of one address."""
        principal = current_principal()
        added = await self._store.add_suppression(
            principal.tenant,
            request.channel,
            request.address,
            request.reason or preference_pb2.SUPPRESSION_REASON_MANUAL,
            detail=request.detail,
            creator=principal.subject,
            expire_time=time_of(request, "expire_time"),
        )
        return ps.AddSuppressionResponse(suppression=added)

    async def RemoveSuppression(
        self, request: ps.RemoveSuppressionRequest, context: Any
    ) -> ps.RemoveSuppressionResponse:
        """Lifts a suppression; an unknown id is NOT_FOUND."""
        removed = await self._store.remove_suppression(
            current_principal().tenant, request.suppression_id
        )
        if not removed:
            raise NotFound(
                f"suppression {request.suppression_id!r} not found",
                reason="SUPPRESSION_NOT_FOUND",
                resource=("suppression", request.suppression_id),
            )
        return ps.RemoveSuppressionResponse()
