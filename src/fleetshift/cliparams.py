"""Plain coercion of the command line's simple values (text, whole numbers, flags, repeated text, a path argument),
so that a command does not import pydantic and build a validator per option before it starts: typer coerces every
value through a pydantic `TypeAdapter` (~70 ms of the start of every command, on the path before the fleet is
read). Each rule gives the value typer's coercion gives; a value of another type, or one the rules do not take as
it stands (" 3", "3_000"), goes to typer's own coercion, with its value or its error."""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_WHOLE = re.compile(r"[+-]?[0-9]+")  # (ASCII digits: `int` alone would take other scripts' digits too)
_PATH_SHAPING = ("parser", "path_type", "resolve_path", "allow_dash", "exists", "writable")
_NUMBER_SHAPING = ("parser", "min", "max", "clamp")


def _kind(annotation: Any, info: Any) -> Any:
    """What the rules here coerce the annotation as (str, bool, int, list, Path), or None: typer's coercion."""
    if getattr(info, "parser", None) is not None:
        return None
    optional = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    if optional:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            return None
        annotation = args[0]
    if annotation is str or annotation is bool:
        return annotation
    if annotation is int:
        return None if any(getattr(info, name, None) for name in _NUMBER_SHAPING) else int
    if typing.get_origin(annotation) is list and typing.get_args(annotation) == (str,):
        return list
    if annotation is Path and not optional:  # (an optional path is coerced otherwise by typer: left to it)
        return None if any(getattr(info, name, None) for name in _PATH_SHAPING) else Path
    return None


def _coerced(kind: Any, value: Any) -> tuple[bool, Any]:
    """(True, the value typer's coercion gives) when the rules here take `value`, else (False, None)."""
    if kind is str or kind is bool:
        return (True, value) if type(value) is kind else (False, None)
    if kind is int:
        if type(value) is int:
            return True, value
        return (True, int(value)) if type(value) is str and _WHOLE.fullmatch(value) else (False, None)
    if kind is list:
        return (True, list(value)) if type(value) in (list, tuple) and all(type(v) is str for v in value) else (False, None)
    return False, None


def install() -> None:
    """Coerce the simple values plainly from now on, the others through typer's coercion. Nothing changes with a
    typer that does not coerce through runtime parameters (releases before 0.26)."""
    try:
        from typer import core
        from typer._coercion import RuntimeParam, TypeDescriptor
        from typer._param_types import BadParameter, coerce_cli_path
    except ImportError:
        return
    own = getattr(core, "build_runtime_param", None)
    if own is None or getattr(own, "plain", False):
        return

    @dataclass(frozen=True)
    class PlainRuntimeParam(RuntimeParam):  # type: ignore[misc]
        """A simple value coerced here; typer's own coercion for a value the rules here do not take."""

        descriptor: TypeDescriptor
        kind: Any

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if self.kind is Path and type(value) is str:  # typer's checks of the Path its adapter makes
                try:
                    return coerce_cli_path(Path(value), self.parameter_info, path_type=Path, param=param, ctx=ctx)
                except BadParameter:  # its message names the path as typed: typer's coercion says it
                    pass
            else:
                done, out = _coerced(self.kind, value)
                if done:
                    return out
            return own(self.descriptor)._coerce_value(value, param=param, ctx=ctx)

    def build(descriptor: TypeDescriptor) -> RuntimeParam:
        kind = _kind(descriptor.annotation, descriptor.parameter_info)
        if kind is None or descriptor.file_annotation is not None:
            return own(descriptor)
        return PlainRuntimeParam(parameter_info=descriptor.parameter_info, annotation=descriptor.annotation,
                                 descriptor=descriptor, kind=kind)

    build.plain = True  # type: ignore[attr-defined]
    core.build_runtime_param = build
