"""`centrum template`: manage notification templates and preview them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from google.protobuf import json_format
from rich.console import Console
from rich.table import Table

from centrum.cli.notify import AsJson, Target, Token, client, fail, print_json
from centrum.notification.v1 import notification_pb2 as pb
from centrum.notification.v1 import template_pb2
from centrum.notification.v1 import template_service_pb2 as ts

__all__ = ["app"]

app = typer.Typer(
    help="Notification templates: list, get, create, update, delete, preview.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
_out = Console()

TemplateId = Annotated[str, typer.Argument(help="Template id, e.g. password-reset.")]
# `get` and `preview` print JSON either way; the flag exists so every read command takes it.
JsonAlways = Annotated[bool, typer.Option("--json", help="Print JSON (this command always does).")]
TemplateFile = Annotated[
    Path, typer.Option("--file", "-f", exists=True, help="Template as JSON (Template message).")
]


def _load(path: Path) -> template_pb2.Template:
    try:
        return json_format.Parse(path.read_text(), template_pb2.Template())
    except (json_format.ParseError, OSError) as exc:
        raise fail(f"{path}: {exc}") from None


@app.command("list")
def list_templates(
    target: Target = "127.0.0.1:50051", token: Token = None, as_json: AsJson = False
) -> None:
    """Lists the latest version of every template."""
    found: list[template_pb2.Template] = []
    with client(target, token) as connected:
        page_token = ""
        while True:
            response = connected.templates.ListTemplates(
                ts.ListTemplatesRequest(page_size=200, page_token=page_token), timeout=15
            )
            found.extend(response.templates)
            page_token = response.next_page_token
            if not page_token:
                break
    if as_json:
        print_json([json_format.MessageToDict(t, preserving_proto_field_name=True) for t in found])
        return
    table = Table("id", "version", "channel", "category", "locales", "name")
    for t in found:
        table.add_row(
            t.id,
            str(t.version),
            pb.Channel.Name(t.channel).removeprefix("CHANNEL_").lower(),
            t.category,
            ",".join(sorted(t.locales)),
            t.name,
        )
    _out.print(table)


@app.command()
def get(
    template_id: TemplateId,
    version: Annotated[int, typer.Option(help="Version; 0 is the latest.")] = 0,
    target: Target = "127.0.0.1:50051",
    token: Token = None,
    as_json: JsonAlways = False,
) -> None:
    """Prints one template version as JSON."""
    with client(target, token) as connected:
        response = connected.templates.GetTemplate(
            ts.GetTemplateRequest(template_id=template_id, version=version), timeout=15
        )
    print_json(response.template)


@app.command()
def create(
    template_id: TemplateId,
    file: TemplateFile,
    target: Target = "127.0.0.1:50051",
    token: Token = None,
) -> None:
    """Creates version 1 of a template from a JSON file."""
    with client(target, token) as connected:
        response = connected.templates.CreateTemplate(
            ts.CreateTemplateRequest(template_id=template_id, template=_load(file)), timeout=15
        )
    _out.print(f"{template_id} version {response.template.version}")


@app.command()
def update(
    template_id: TemplateId,
    file: TemplateFile,
    expected_version: Annotated[int, typer.Option(help="Fail if not the latest version.")] = 0,
    target: Target = "127.0.0.1:50051",
    token: Token = None,
) -> None:
    """Creates a new version from a JSON file (every updatable field replaced)."""
    with client(target, token) as connected:
        response = connected.templates.UpdateTemplate(
            ts.UpdateTemplateRequest(
                template_id=template_id, template=_load(file), expected_version=expected_version
            ),
            timeout=15,
        )
    _out.print(f"{template_id} version {response.template.version}")


@app.command()
def delete(
    template_id: TemplateId, target: Target = "127.0.0.1:50051", token: Token = None
) -> None:
    """Deletes a template with all its versions."""
    with client(target, token) as connected:
        connected.templates.DeleteTemplate(
            ts.DeleteTemplateRequest(template_id=template_id), timeout=15
        )
    _out.print(f"{template_id} deleted")


@app.command()
def preview(
    template_id: TemplateId,
    context: Annotated[str, typer.Option(help="Variables as a JSON object.")] = "",
    locale: Annotated[str, typer.Option(help="Locale to render.")] = "",
    target: Target = "127.0.0.1:50051",
    token: Token = None,
    as_json: JsonAlways = False,
) -> None:
    """Renders a stored template as JSON; a render error (e.g. a missing variable) exits 1."""
    request = ts.PreviewTemplateRequest(template_id=template_id, locale=locale)
    if context:
        try:
            request.context.update(json.loads(context))
        except ValueError as exc:
            raise fail(f"--context is not a JSON object: {exc}") from None
    with client(target, token) as connected:
        response = connected.templates.PreviewTemplate(request, timeout=15)
    print_json(response)
    if response.WhichOneof("result") == "error":
        raise typer.Exit(code=1)
