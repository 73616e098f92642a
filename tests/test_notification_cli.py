"""`centrum notify` and `centrum template` against a running server."""

from __future__ import annotations

import json
from pathlib import Path

from test_notification_kit import (
    FAST_DISPATCH,
    notify_client,
    poll,
)

from centrum.notification.v1 import notification_pb2 as pb
from centrum.notification.v1 import notification_service_pb2 as ns
from harness.centrum import StartCentrum, run_cli
from harness.tokens import TokenMint

_cli = run_cli


async def test_template_create_preview_then_send_and_follow(
    start_centrum: StartCentrum, token_mint: TokenMint, tmp_path: Path
) -> None:
    """A template created from a JSON file previews, a send renders it, `status --json` shows
    it SENT, `list` finds it; an unknown id exits 3 with one NOT_FOUND line."""
    app = await start_centrum(notification=FAST_DISPATCH)
    token = token_mint.token(scopes=["notify.admin"])
    spec = tmp_path / "welcome.json"
    spec.write_text(
        json.dumps(
            {
                "channel": "CHANNEL_EMAIL",
                "defaultLocale": "en",
                "locales": {"en": {"subject": "Hi {{ name }}", "text": "Welcome {{ name }}"}},
            }
        )
    )
    code, out, err = await _cli(app, token, "template", "create", "welcome", "--file", str(spec))
    assert code == 0, err
    code, out, _ = await _cli(
        app, token, "template", "preview", "welcome", "--context", '{"name": "Ada"}'
    )
    assert code == 0 and json.loads(out)["content"]["subject"] == "Hi Ada"
    code, out, err = await _cli(
        app,
        token,
        "notify",
        "send",
        "--to",
        "ada@example.com",
        "--template",
        "welcome",
        "--context",
        '{"name": "Ada"}',
        "--tag",
        "cli",
        "--json",
    )
    assert code == 0, err
    notification_id = json.loads(out)["notification"]["id"]
    async with notify_client(app, token_mint) as client:

        async def sent() -> bool:
            response = await client.notifications.GetNotification(
                ns.GetNotificationRequest(notification_id=notification_id)
            )
            return bool(response.notification.status == pb.NOTIFICATION_STATUS_SENT)

        await poll(sent, "SENT")
    code, out, _ = await _cli(app, token, "notify", "status", notification_id, "--json")
    assert json.loads(out)["status"] == "NOTIFICATION_STATUS_SENT"
    code, out, _ = await _cli(app, token, "notify", "list", "--tag", "cli", "--json")
    assert [n["id"] for n in json.loads(out)] == [notification_id]
    code, out, err = await _cli(app, token, "notify", "status", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert code == 3 and "NOT_FOUND" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
