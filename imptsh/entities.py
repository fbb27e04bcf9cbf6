"""Registry of the impCentral entity kinds and the impt constants (commands.md §3.1, §3.2, §4.1, §5).

Pure data: one frozen :class:`EntityKind` per kind, looked up by kind key in :data:`ENTITIES`
(or with :func:`entity`), plus the Device Group type table, target-type rules, webhook
events/MIME types and output modes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACCOUNT",
    "BUILD",
    "DEVICE",
    "DG",
    "DG_TYPES",
    "DUT_TYPES",
    "ENTITIES",
    "FACTORY_TYPES",
    "KINDS",
    "LOGINKEY",
    "OUTPUT_MODES",
    "PRODUCT",
    "PRODUCTION_TYPES",
    "TARGET_TYPES",
    "UNKNOWN",
    "WEBHOOK",
    "WEBHOOK_EVENTS",
    "WEBHOOK_MIME_TYPES",
    "EntityKind",
    "Relationship",
    "content_type_of_mime",
    "dg_api_type",
    "dg_cli_type",
    "dut_target_type",
    "entity",
    "kind_of_api_type",
    "mime_of_content_type",
    "production_target_type",
]

UNKNOWN = "unknown"
"""Display value of an unrecognised Device Group type or webhook content type."""


@dataclass(frozen=True)
class Relationship:
    """A relationship shown as a nested block: display key, API relationship name, related kind."""

    key: str
    api_name: str
    kind: str

    @property
    def has_display_name(self) -> bool:
        """True when the key is a display name rather than the related entity's type name."""
        return self.key != ENTITIES[self.kind].type_name

    @property
    def corrupted_key(self) -> str:
        """Key of the sub-block when the related entity does not exist (commands.md §3.3)."""
        if self.has_display_name:
            return self.key
        return f"Corrupted {ENTITIES[self.kind].type_name}"


@dataclass(frozen=True)
class EntityKind:
    """Everything impt knows about one kind of entity."""

    kind: str
    """Kind key used throughout imptsh (`product`, `dg`, `device`, `build`, ...)."""
    type_name: str
    """Type name used in blocks and messages (`Device Group`, `Deployment`, ...)."""
    plural: str
    """`<Type>s`, as in `No Device Groups are found.`"""
    collection: str
    """API collection path (`/devicegroups`)."""
    api_types: tuple[str, ...]
    """JSON:API `type` values of resources of this kind."""
    ident_attrs: tuple[str, ...]
    """Identification order of commands.md §4.1 (`id` first; list-valued ones match by membership)."""
    list_attrs: tuple[str, ...]
    """Attributes of the short view, after `id` (`type` is the resource type, not an attribute)."""
    list_relationships: tuple[Relationship, ...]
    """Relationships shown as nested short blocks in the list view."""
    info_relationships: tuple[Relationship, ...]
    """Relationships shown as nested short blocks in the info view."""

    def attr_matches(self, resource: Mapping[str, Any], attr: str, value: str) -> bool:
        """Whether `resource` matches identifier `value` on identification attribute `attr`.

        Exact, case-sensitive equality; membership for list-valued attributes (`tags`).
        """
        if attr == "id":
            actual: Any = resource.get("id")
        else:
            actual = (resource.get("attributes") or {}).get(attr)
        if isinstance(actual, list | tuple):
            return value in actual
        return isinstance(actual, str) and actual == value


_OWNER = Relationship("Owner", "owner", "account")
_CREATOR = Relationship("Creator", "creator", "account")
_PRODUCT = Relationship("Product", "product", "product")
_DEVICE_GROUP = Relationship("Device Group", "devicegroup", "dg")

DG_TYPES: Mapping[str, str] = {
    "development": "development_devicegroup",
    "pre-factory": "pre_factoryfixture_devicegroup",
    "pre-dut": "pre_dut_devicegroup",
    "pre-production": "pre_production_devicegroup",
    "factory": "factoryfixture_devicegroup",
    "dut": "dut_devicegroup",
    "production": "production_devicegroup",
}
"""Device Group types, CLI constant → API type, in the order of help and `Invalid values`."""

_DG_TYPES_BY_API: Mapping[str, str] = {api: cli for cli, api in DG_TYPES.items()}

PRODUCT = EntityKind(
    kind="product",
    type_name="Product",
    plural="Products",
    collection="/products",
    api_types=("product",),
    ident_attrs=("id", "name"),
    list_attrs=("name",),
    list_relationships=(_OWNER,),
    info_relationships=(_OWNER, _CREATOR),
)
DG = EntityKind(
    kind="dg",
    type_name="Device Group",
    plural="Device Groups",
    collection="/devicegroups",
    api_types=tuple(DG_TYPES.values()),
    ident_attrs=("id", "name"),
    list_attrs=("type", "name"),
    list_relationships=(_PRODUCT, _OWNER),
    info_relationships=(
        _PRODUCT,
        Relationship("Current Deployment", "current_deployment", "build"),
        Relationship("Min supported Deployment", "min_supported_deployment", "build"),
        Relationship("Production Target", "production_target", "dg"),
        Relationship("DUT Target", "dut_target", "dg"),
        _OWNER,
        _CREATOR,
    ),
)
DEVICE = EntityKind(
    kind="device",
    type_name="Device",
    plural="Devices",
    collection="/devices",
    api_types=("device",),
    ident_attrs=("id", "mac_address", "agent_id", "name"),
    list_attrs=("name", "mac_address", "agent_id", "device_online"),
    list_relationships=(_DEVICE_GROUP, _OWNER),
    info_relationships=(_DEVICE_GROUP, _PRODUCT, _OWNER, _CREATOR),
)
BUILD = EntityKind(
    kind="build",
    type_name="Deployment",
    plural="Deployments",
    collection="/deployments",
    api_types=("deployment",),
    ident_attrs=("id", "sha", "tags", "origin"),
    list_attrs=("sha", "tags", "origin", "flagged"),
    list_relationships=(_DEVICE_GROUP, _OWNER),
    info_relationships=(_DEVICE_GROUP, _PRODUCT, _OWNER, _CREATOR),
)
LOGINKEY = EntityKind(
    kind="loginkey",
    type_name="Login Key",
    plural="Login Keys",
    collection="/accounts/me/login_keys",
    api_types=("login_key",),
    ident_attrs=("id",),
    list_attrs=("description", "usages"),
    list_relationships=(),
    info_relationships=(_OWNER, _CREATOR),
)
ACCOUNT = EntityKind(
    kind="account",
    type_name="Account",
    plural="Accounts",
    collection="/accounts",
    api_types=("account",),
    ident_attrs=("id", "email", "username"),
    list_attrs=("email", "username"),
    list_relationships=(),
    info_relationships=(_OWNER, _CREATOR),
)
WEBHOOK = EntityKind(
    kind="webhook",
    type_name="Webhook",
    plural="Webhooks",
    collection="/webhooks",
    api_types=("webhook",),
    ident_attrs=("id",),
    list_attrs=("event", "url"),
    list_relationships=(_DEVICE_GROUP, _OWNER),
    info_relationships=(_DEVICE_GROUP, _PRODUCT, _OWNER, _CREATOR),
)

ENTITIES: Mapping[str, EntityKind] = {
    e.kind: e for e in (PRODUCT, DG, DEVICE, BUILD, LOGINKEY, ACCOUNT, WEBHOOK)
}
"""All entity kinds by kind key."""

KINDS: tuple[str, ...] = tuple(ENTITIES)

_KIND_BY_API_TYPE: Mapping[str, str] = {t: e.kind for e in ENTITIES.values() for t in e.api_types}

FACTORY_TYPES: tuple[str, ...] = ("pre-factory", "factory")
"""DG types that have a production target and a DUT target."""
PRODUCTION_TYPES: tuple[str, ...] = ("pre-production", "production")
"""DG types with `region` and `load_code_after_blessing`; possible production targets."""
DUT_TYPES: tuple[str, ...] = ("pre-dut", "dut")
"""DG types that are possible DUT targets."""

TARGET_TYPES: Mapping[str, tuple[str, str]] = {
    "pre-factory": ("pre-production", "pre-dut"),
    "factory": ("production", "dut"),
}
"""Factory DG type → (production target type, DUT target type)."""

WEBHOOK_EVENTS: tuple[str, ...] = ("blessing", "blinkup", "deployment")
"""Values of `--event`, in order."""

WEBHOOK_MIME_TYPES: Mapping[str, str] = {
    "json": "application/json",
    "urlencoded": "application/x-www-form-urlencoded",
}
"""Values of `--mime` → API `content_type`, in order."""

_MIME_BY_CONTENT_TYPE: Mapping[str, str] = {v: k for k, v in WEBHOOK_MIME_TYPES.items()}

OUTPUT_MODES: tuple[str, ...] = ("minimal", "json", "debug")
"""Values of `--output`, in order (absent = default mode)."""


def entity(kind: str) -> EntityKind:
    """The :class:`EntityKind` of a kind key; KeyError for an unknown key."""
    return ENTITIES[kind]


def kind_of_api_type(api_type: str) -> str:
    """Kind key of a JSON:API resource type (`development_devicegroup` → `dg`).

    Any `*_devicegroup` (and bare `devicegroup`) counts as a Device Group. KeyError otherwise.
    """
    kind = _KIND_BY_API_TYPE.get(api_type)
    if kind is not None:
        return kind
    if api_type == "devicegroup" or api_type.endswith("_devicegroup"):
        return "dg"
    raise KeyError(api_type)


def dg_cli_type(api_type: str | None) -> str:
    """CLI constant of an API Device Group type; `unknown` when unrecognised."""
    if api_type is None:
        return UNKNOWN
    return _DG_TYPES_BY_API.get(api_type, UNKNOWN)


def dg_api_type(cli_type: str) -> str:
    """API type of a CLI Device Group type constant; KeyError when unknown."""
    return DG_TYPES[cli_type]


def production_target_type(cli_type: str) -> str | None:
    """Required type of the production target of a DG of `cli_type` (None: not a factory type)."""
    targets = TARGET_TYPES.get(cli_type)
    return targets[0] if targets else None


def dut_target_type(cli_type: str) -> str | None:
    """Required type of the DUT target of a DG of `cli_type` (None: not a factory type)."""
    targets = TARGET_TYPES.get(cli_type)
    return targets[1] if targets else None


def mime_of_content_type(content_type: str | None) -> str:
    """`--mime` value of an API webhook content type; `unknown` when unrecognised."""
    if content_type is None:
        return UNKNOWN
    return _MIME_BY_CONTENT_TYPE.get(content_type, UNKNOWN)


def content_type_of_mime(mime: str) -> str:
    """API webhook content type of a `--mime` value; KeyError when unknown."""
    return WEBHOOK_MIME_TYPES[mime]
