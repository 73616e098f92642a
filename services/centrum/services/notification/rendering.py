"""Rendering templates: Jinja2's sandbox with strict undefined variables and locale fallback.

A missing variable fails the render with its dotted path (`user.first_name`); the caller sees it
as INVALID_ARGUMENT. HTML parts are autoescaped, `data` parts must render to valid JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NoReturn

import jinja2
from google.protobuf import json_format, struct_pb2
from jinja2.sandbox import SandboxedEnvironment

from centrum.notification.v1 import notification_pb2, template_pb2

__all__ = [
    "PARTS",
    "RenderFailure",
    "check_syntax",
    "pick_locale",
    "render_variant",
    "struct_to_dict",
    "value_to_python",
]

PARTS = ("subject", "text", "html", "data")
"""The parts of a template variant, in the order they are rendered."""


class RenderFailure(Exception):
    """A template did not render: which part, why, and the missing variable if that was it."""

    def __init__(self, part: str, message: str, *, missing: str = "", line: int = 0) -> None:
        super().__init__(message)
        self.part = part
        self.message = message
        self.missing = missing
        self.line = line

    def to_proto(self) -> template_pb2.RenderError:
        """The RenderError message of this failure."""
        return template_pb2.RenderError(
            missing_variable=self.missing, part=self.part, line=self.line, message=self.message
        )


class _Missing(Exception):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class _PathDict(dict[str, Any]):
    """A context mapping that knows its dotted path, so an undefined key can be named fully."""

    centrum_path: str = ""


class _NamedUndefined(jinja2.StrictUndefined):
    """StrictUndefined that fails with the dotted path of the missing variable."""

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> NoReturn:
        owner = self._undefined_obj
        name = str(self._undefined_name or "")
        prefix = getattr(owner, "centrum_path", "") if owner is not jinja2.utils.missing else ""
        raise _Missing(f"{prefix}.{name}" if prefix else name)

    __str__ = __iter__ = __len__ = __bool__ = __eq__ = __ne__ = __hash__ = (
        _fail_with_undefined_error
    )
    __getitem__ = __add__ = __radd__ = __mul__ = __call__ = _fail_with_undefined_error


def _environment(autoescape: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=_NamedUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    return env


_PLAIN = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


def _env_for(part: str) -> SandboxedEnvironment:
    return _HTML if part == "html" else _PLAIN


def _wrap(value: Any, path: str) -> Any:
    if isinstance(value, Mapping):
        wrapped = _PathDict({k: _wrap(v, f"{path}.{k}" if path else k) for k, v in value.items()})
        wrapped.centrum_path = path
        return wrapped
    if isinstance(value, list):
        return [_wrap(item, f"{path}.{i}") for i, item in enumerate(value)]
    return value


def struct_to_dict(struct: struct_pb2.Struct | None) -> dict[str, Any]:
    """A Struct as plain Python values (integral numbers as int)."""
    if struct is None:
        return {}
    return _integral(json_format.MessageToDict(struct))  # type: ignore[no-any-return]


def value_to_python(value: struct_pb2.Value) -> Any:
    """A Value as plain Python (integral numbers as int, so JSON shows 42, not 42.0)."""
    return _integral(json_format.MessageToDict(value))


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def check_syntax(variant: template_pb2.TemplateVariant) -> list[tuple[str, str]]:
    """The (part, message) of every part of `variant` that does not compile."""
    problems = []
    for part in PARTS:
        source = getattr(variant, part)
        if not source:
            continue
        try:
            _env_for(part).parse(source)
        except jinja2.TemplateSyntaxError as exc:
            problems.append((part, f"line {exc.lineno}: {exc.message}"))
    return problems


def pick_locale(locales: Mapping[str, Any], requested: str, default: str) -> str:
    """The locale to render: `requested`, then its language, then `default` (BCP 47, any case)."""
    by_lower = {key.lower(): key for key in locales}
    candidates = []
    if requested:
        tag = requested.replace("_", "-").lower()
        candidates.append(tag)
        while "-" in tag:
            tag = tag.rsplit("-", 1)[0]
            candidates.append(tag)
    candidates.append(default.lower())
    for candidate in candidates:
        if candidate in by_lower:
            return by_lower[candidate]
    raise RenderFailure("", f"the template has no locale {requested or default!r}")


def render_variant(
    variant: template_pb2.TemplateVariant, context: Mapping[str, Any]
) -> notification_pb2.Content:
    """Renders every non-empty part of `variant` with `context`; raises RenderFailure."""
    wrapped = {key: _wrap(value, key) for key, value in context.items()}
    content = notification_pb2.Content()
    for part in PARTS:
        source = getattr(variant, part)
        if not source:
            continue
        try:
            output = _env_for(part).from_string(source).render(wrapped)
        except _Missing as missing:
            raise RenderFailure(
                part, f"the variable {missing.path!r} is undefined", missing=missing.path
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise RenderFailure(part, exc.message or "syntax error", line=exc.lineno) from None
        except jinja2.TemplateError as exc:
            raise RenderFailure(part, str(exc)) from None
        if part == "data":
            try:
                json_format.Parse(json.dumps(json.loads(output)), content.data)
            except (ValueError, json_format.ParseError) as exc:
                raise RenderFailure(part, f"data does not render to valid JSON: {exc}") from None
        elif part == "subject":
            content.subject = " ".join(output.split())
        else:
            setattr(content, part, output)
    return content
