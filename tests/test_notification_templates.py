"""TemplateService and PreferenceService through the server: versions, previews, the sandbox,
preferences and unsubscribe links."""

from __future__ import annotations

from urllib.parse import unquote

import grpc
import pytest
from google.protobuf import field_mask_pb2
from test_notification_kit import (
    FAST_DISPATCH,
    email_send,
    notify_client,
    struct,
)

from centrum.notification.v1 import notification_pb2 as pb
from centrum.notification.v1 import notification_service_pb2 as ns
from centrum.notification.v1 import preference_pb2, template_pb2
from centrum.notification.v1 import preference_service_pb2 as ps
from centrum.notification.v1 import template_service_pb2 as ts
from centrum.sdk.aio import connect
from centrum.sdk.errors import CentrumError
from centrum.server import CentrumApp
from harness.centrum import StartCentrum
from harness.tokens import TokenMint


def _template(subject: str = "Hi {{ name }}", html: str = "") -> template_pb2.Template:
    return template_pb2.Template(
        name="Greeting",
        channel=pb.CHANNEL_EMAIL,
        default_locale="en",
        locales={"en": template_pb2.TemplateVariant(subject=subject, text="Body", html=html)},
        example_context=struct({"name": "Example"}),
    )


@pytest.fixture
async def app(start_centrum: StartCentrum) -> CentrumApp:
    """A server on embedded defaults."""
    return await start_centrum(
        notification={**FAST_DISPATCH, "unsubscribe_base_url": "https://app.test/unsubscribe"}
    )


async def test_versions_updates_and_deletes(app: CentrumApp, token_mint: TokenMint) -> None:
    """Updates create versions (an unchanged update creates none), older versions stay
    readable, a stale expected_version is ABORTED, a duplicate id ALREADY_EXISTS, and a deleted
    template is NOT_FOUND."""
    async with notify_client(app, token_mint) as client:
        created = await client.templates.CreateTemplate(
            ts.CreateTemplateRequest(template_id="greet", template=_template())
        )
        with pytest.raises(CentrumError) as duplicate:
            await client.templates.CreateTemplate(
                ts.CreateTemplateRequest(template_id="greet", template=_template())
            )
        mask = field_mask_pb2.FieldMask(paths=["locales"])
        updated = await client.templates.UpdateTemplate(
            ts.UpdateTemplateRequest(
                template_id="greet",
                template=_template("Hello {{ name }}"),
                update_mask=mask,
                expected_version=1,
            )
        )
        same = await client.templates.UpdateTemplate(
            ts.UpdateTemplateRequest(
                template_id="greet", template=_template("Hello {{ name }}"), update_mask=mask
            )
        )
        with pytest.raises(CentrumError) as stale:
            await client.templates.UpdateTemplate(
                ts.UpdateTemplateRequest(
                    template_id="greet",
                    template=_template("x"),
                    update_mask=mask,
                    expected_version=1,
                )
            )
        old = await client.templates.GetTemplate(
            ts.GetTemplateRequest(template_id="greet", version=1)
        )
        versions = await client.templates.ListTemplateVersions(
            ts.ListTemplateVersionsRequest(template_id="greet")
        )
        listed = await client.templates.ListTemplates(ts.ListTemplatesRequest())
        await client.templates.DeleteTemplate(ts.DeleteTemplateRequest(template_id="greet"))
        with pytest.raises(CentrumError) as gone:
            await client.templates.GetTemplate(ts.GetTemplateRequest(template_id="greet"))
    assert created.template.version == 1 and created.template.author == "svc-notify"
    assert duplicate.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert (updated.template.version, same.template.version) == (2, 2)
    assert stale.value.code() == grpc.StatusCode.ABORTED
    assert stale.value.metadata["current_version"] == "2"
    assert old.template.locales["en"].subject == "Hi {{ name }}"
    assert [t.version for t in versions.templates] == [2, 1]
    assert [(t.id, t.version) for t in listed.templates] == [("greet", 2)]
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND


async def test_syntax_errors_are_reported_by_locale_and_part(
    app: CentrumApp, token_mint: TokenMint
) -> None:
    """A template that does not compile is INVALID_ARGUMENT naming the locale and part."""
    async with notify_client(app, token_mint) as client:
        with pytest.raises(CentrumError) as failure:
            await client.templates.CreateTemplate(
                ts.CreateTemplateRequest(template_id="bad", template=_template("Hi {{ name"))
            )
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in failure.value.field_violations] == ["template.locales[en].subject"]


async def test_preview_renders_autoescapes_and_reports_missing_variables(
    app: CentrumApp, token_mint: TokenMint
) -> None:
    """Preview renders with the example context, autoescapes HTML, and returns (not raises) a
    missing variable; the sandbox refuses attribute tricks."""
    draft = _template(html="<p>{{ name }}</p>")
    async with notify_client(app, token_mint) as client:
        example = await client.templates.PreviewTemplate(ts.PreviewTemplateRequest(draft=draft))
        escaped = await client.templates.PreviewTemplate(
            ts.PreviewTemplateRequest(draft=draft, context=struct({"name": "<script>"}))
        )
        missing = await client.templates.PreviewTemplate(
            ts.PreviewTemplateRequest(draft=draft, context=struct({}))
        )
        sandboxed = await client.templates.PreviewTemplate(
            ts.PreviewTemplateRequest(
                draft=_template("{{ ''.__class__.__mro__[1].__subclasses__() }}"),
                context=struct({}),
            )
        )
    assert example.content.subject == "Hi Example" and example.locale == "en"
    assert escaped.content.html == "<p>&lt;script&gt;</p>"
    assert (missing.error.missing_variable, missing.error.part) == ("name", "subject")
    assert sandboxed.WhichOneof("result") == "error"


async def test_unsubscribe_link_opts_the_subscriber_out(
    app: CentrumApp, token_mint: TokenMint
) -> None:
    """A template sees a signed unsubscribe URL; Unsubscribe with its token (no credential)
    opts the subscriber out of the category, so the next send is SUPPRESSED; a tampered token
    is INVALID_ARGUMENT."""
    template = _template()
    template.category = "news"
    template.locales["en"].text = "{{ centrum.unsubscribe_url }}"
    async with notify_client(app, token_mint) as client:
        await client.templates.CreateTemplate(
            ts.CreateTemplateRequest(template_id="news", template=template)
        )

        def news() -> ns.SendRequest:
            request = email_send(template=pb.TemplateRef(template_id="news"))
            request.context.update({"name": "Ada"})
            request.recipient.subscriber_id = "sub-1"
            return request

        first = await client.notifications.Send(news())
        full = await client.notifications.GetNotification(
            ns.GetNotificationRequest(notification_id=first.notification.id)
        )
        link = full.notification.content.text
        token = unquote(link.split("token=", 1)[1])
        flipped = token[:10] + ("B" if token[10] != "B" else "C") + token[11:]
        async with connect(f"127.0.0.1:{app.port}") as anonymous:
            answer = await anonymous.preferences.Unsubscribe(ps.UnsubscribeRequest(token=token))
            with pytest.raises(CentrumError) as tampered:
                await anonymous.preferences.Unsubscribe(ps.UnsubscribeRequest(token=flipped))
        second = await client.notifications.Send(news())
        prefs = await client.preferences.GetPreferences(
            ps.GetPreferencesRequest(subscriber_id="sub-1")
        )
    assert link.startswith("https://app.test/unsubscribe?token=")
    assert (answer.channel, answer.category) == (pb.CHANNEL_EMAIL, "news")
    assert tampered.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert second.notification.status == pb.NOTIFICATION_STATUS_SUPPRESSED
    assert list(prefs.preferences.rules) == [
        preference_pb2.PreferenceRule(category="news", channel=pb.CHANNEL_EMAIL, enabled=False)
    ]


async def test_critical_preferences_are_refused_and_suppressions_round_trip(
    app: CentrumApp, token_mint: TokenMint
) -> None:
    """A rule for "critical" is INVALID_ARGUMENT; suppressions are added idempotently (same
    id), listed and removed, and removing an unknown one is NOT_FOUND."""
    async with notify_client(app, token_mint) as client:
        with pytest.raises(CentrumError) as critical:
            await client.preferences.UpdatePreferences(
                ps.UpdatePreferencesRequest(
                    subscriber_id="s",
                    rules=[preference_pb2.PreferenceRule(category="critical", enabled=False)],
                )
            )
        add = ps.AddSuppressionRequest(channel=pb.CHANNEL_SMS, address="+4915112345678")
        first = await client.preferences.AddSuppression(add)
        again = await client.preferences.AddSuppression(add)
        listed = await client.preferences.ListSuppressions(ps.ListSuppressionsRequest())
        await client.preferences.RemoveSuppression(
            ps.RemoveSuppressionRequest(suppression_id=first.suppression.id)
        )
        with pytest.raises(CentrumError) as unknown:
            await client.preferences.RemoveSuppression(
                ps.RemoveSuppressionRequest(suppression_id=first.suppression.id)
            )
    assert critical.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert first.suppression.id == again.suppression.id
    assert first.suppression.reason == preference_pb2.SUPPRESSION_REASON_MANUAL
    assert [s.id for s in listed.suppressions] == [first.suppression.id]
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
