"""Where asyncio-mqtt / aiomqtt 1.x names live in aiomqtt 2.x."""

from __future__ import annotations

OLD_PACKAGE = "asyncio_mqtt"
NEW_PACKAGE = "aiomqtt"

# Public names importable from the top-level `aiomqtt` package in 2.x.
TOP_LEVEL = frozenset(
    {
        "Client",
        "Message",
        "MessagesIterator",
        "MqttCodeError",
        "MqttError",
        "MqttReentrantError",
        "ProtocolVersion",
        "ProxySettings",
        "TLSParameters",
        "Topic",
        "TopicLike",
        "Wildcard",
        "WildcardLike",
        "Will",
        "__version__",
        "__version_tuple__",
    }
)
EXCEPTIONS_ONLY = frozenset({"MqttConnectError"})
TOPIC_NAMES = frozenset({"Topic", "TopicLike", "Wildcard", "WildcardLike"})
SUBMODULES = {"error": "exceptions", "client": "client", "types": "types", "exceptions": "exceptions"}
CLIENT_QUALNAMES = frozenset(
    {"asyncio_mqtt.Client", "asyncio_mqtt.client.Client", "aiomqtt.Client", "aiomqtt.client.Client"}
)
ERROR_QUALNAMES = frozenset(
    f"{pkg}.{mod}{name}"
    for pkg in (OLD_PACKAGE, NEW_PACKAGE)
    for mod in ("", "error.", "exceptions.", "client.")
    for name in ("MqttError", "MqttCodeError", "MqttConnectError")
)
CODE_ERROR_QUALNAMES = frozenset(q for q in ERROR_QUALNAMES if not q.endswith(".MqttError"))


def is_old_module(module: str, names: tuple[str, ...] = ()) -> bool:
    """Whether an import of `module` (importing `names`) is written for asyncio-mqtt or aiomqtt 1.x."""
    if module == OLD_PACKAGE or module.startswith(OLD_PACKAGE + "."):
        return True
    if module == "aiomqtt.error" or module.startswith("aiomqtt.error."):
        return True
    if module == "aiomqtt.client":
        return any(n in TOPIC_NAMES for n in names)
    return module == NEW_PACKAGE and "error" in names


def new_module(old_module: str, name: str) -> str:
    """The 2.x module to import `name` from, given the old module it came from."""
    sub = old_module.split(".", 1)[1] if "." in old_module else ""
    if sub.startswith("types"):
        return "aiomqtt.types"
    if name in TOP_LEVEL:
        return NEW_PACKAGE
    if name in EXCEPTIONS_ONLY or sub.startswith("error"):
        return "aiomqtt.exceptions"
    if sub.startswith("client"):
        return "aiomqtt.client"
    return NEW_PACKAGE


def new_dotted(old: str) -> str:
    """`asyncio_mqtt.error.MqttError` -> `aiomqtt.MqttError`; a dotted path in its 2.x spelling."""
    parts = old.split(".")
    if parts[0] == OLD_PACKAGE:
        parts[0] = NEW_PACKAGE
    if len(parts) >= 3 and parts[1] == "error":
        module = NEW_PACKAGE if parts[2] in TOP_LEVEL else "aiomqtt.exceptions"
        return ".".join([*module.split("."), *parts[2:]])
    if len(parts) >= 3 and parts[1] == "client" and parts[2] in TOPIC_NAMES:
        return ".".join([NEW_PACKAGE, *parts[2:]])
    return ".".join(parts)


def patch_target(old: str) -> str:
    """A `mock.patch` target string in its 2.x spelling, keeping the module the patch acts on."""
    parts = old.split(".")
    if parts[0] == OLD_PACKAGE:
        parts[0] = NEW_PACKAGE
    if len(parts) >= 2 and parts[1] == "error":
        parts[1] = "exceptions"
    if len(parts) >= 3 and parts[1] == "client" and parts[2] in TOPIC_NAMES:
        parts[1] = "topic"
    return ".".join(parts)


def is_old_patch_target(value: str) -> bool:
    parts = value.split(".")
    if not all(p.isidentifier() for p in parts):
        return False
    if parts[0] == OLD_PACKAGE:
        return True
    return parts[0] == NEW_PACKAGE and patch_target(value) != value
