"""influxdb3-python host strings: it needs `scheme://host:port` (no port means 443, even for http://;
a URL path is dropped).
"""

from __future__ import annotations

import ast
import re
from typing import Literal
from urllib.parse import urlsplit

from fleetshift.recipes.influxdb.flux import HOLE_OPEN, HOLE_RE, hole

Shape = Literal["ok", "bad", "unknown"]


def normalise_host(url: str) -> tuple[str | None, str]:
    """`scheme://host:port` for a literal v2 URL (None when unusable) and a warning (or "")."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None, f"the URL {url!r} has no http(s) scheme; influxdb3-python needs scheme://host:port"
    warn = ""
    if parts.path not in ("", "/"):
        warn = f"the URL path {parts.path!r} is dropped by influxdb3-python (only scheme://host:port is used)"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}:{port}", warn


def url_shape(text: str) -> tuple[Shape, str]:
    """Whether a host text (f-string placeholders as sentinels) shows `scheme://host:port`, plus a warning.

    `f"http://127.0.0.1:{port}"` is ok; `f"http://{host}"` is unknown (the placeholder may carry the
    port); `"http://localhost"` is bad.
    """
    m = re.match(r"(https?)://([^/?#]*)(.*)\Z", text, re.S)
    if m is None:
        return ("unknown" if text.startswith(HOLE_OPEN) else "bad"), ""
    authority, rest = m.group(2), m.group(3)
    path = rest.split("?", 1)[0].split("#", 1)[0]
    warn = ""
    if path not in ("", "/") and HOLE_OPEN not in path:
        warn = f"the URL path {path!r} is dropped by influxdb3-python (only scheme://host:port is used)"
    if HOLE_OPEN not in authority:
        try:
            port = urlsplit(f"{m.group(1)}://{authority}").port
        except ValueError:
            return "bad", warn
        return ("ok" if port is not None and authority.rsplit(":", 1)[0] else "bad"), warn
    if re.search(r"[^:]:(?:\d+|" + HOLE_RE.pattern + r")\Z", authority):
        return "ok", warn
    return "unknown", warn


def ast_text(node: ast.AST) -> str | None:
    """The text of a str constant or f-string, placeholders as sentinels; None for other expressions."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for i, v in enumerate(node.values):
            parts.append(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else hole(i))
        return "".join(parts)
    return None


def host_shape(node: ast.AST) -> Shape:
    """`url_shape` of a host argument; other expressions are unknown."""
    text = ast_text(node)
    return "unknown" if text is None else url_shape(text)[0]
