"""A factory fixture Device Group's targets (`--target`, `--dut`): resolving, checking and,
for `project create`, creating them (commands.md §11.5 `dg create` step 2, §11.9)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..api import resources
from ..entities import (
    FACTORY_TYPES,
    dg_api_type,
    dg_cli_type,
    dut_target_type,
    production_target_type,
)
from ..errors import CommandError
from ..invocation import Invocation
from ..views import rel_id

Resource = dict[str, Any]


@dataclass(frozen=True)
class TargetKind:
    option: str  # the option naming it, without dashes
    label: str  # how messages name it
    relationship: str  # the Device Group relationship (and create/update keyword)
    required_type: Callable[[str], str]  # CLI type of the target for a parent's CLI type


PRODUCTION = TargetKind("target", "Production Target", "production_target", production_target_type)
DUT = TargetKind("dut", "DUT Target", "dut_target", dut_target_type)


@dataclass
class Target:
    """A target to use: `resource` once it exists, else the `name` to create it with."""

    kind: TargetKind
    value: str
    resource: Resource | None = None


def invalid_option(name: str, dg_type: str, allowed: tuple[str, ...]) -> str:
    return (
        f'Invalid option "--{name}" for Device Group of the type "{dg_type}". '
        f'It may be specified for "{allowed[0]}" or "{allowed[1]}" Device Groups only.'
    )


def find_targets(
    inv: Invocation,
    dg_type: str,
    product_id: str | None,
    values: dict[TargetKind, str | None],
    creatable: frozenset[TargetKind] = frozenset(),
) -> list[Target]:
    """Resolves and checks the given targets of a `dg_type` Device Group of the Product
    `product_id` (None: a Product still to be created, which no group can be in yet), in
    impt's order: the production target, then the DUT target. A target that does not exist
    is an error unless its kind is `creatable`. Nothing is changed on the server."""
    found: list[Target] = []
    for kind in (PRODUCTION, DUT):
        value = values.get(kind)
        if value is None:
            continue
        if dg_type not in FACTORY_TYPES:
            raise CommandError(invalid_option(kind.option, dg_type, FACTORY_TYPES))
        label = f"{kind.label} Device Group"
        if kind in creatable:
            resource = inv.identifier.find_one("dg", value, type_label=label)
        else:
            resource = inv.identifier.resolve("dg", value, type_label=label)
        if resource is None:
            found.append(Target(kind, value))
            continue
        required = kind.required_type(dg_type)
        actual = dg_cli_type(resource.get("type"))
        if actual != required:
            raise CommandError(
                f'{label} "{value}" is of the type "{actual}" but must be of the type "{required}".'
            )
        if product_id is None or rel_id(resource, "product") != product_id:
            raise CommandError(f"{label} must be from the same Product.")
        found.append(Target(kind, value, resource))
    return found


def create_missing(
    inv: Invocation, dg_type: str, product_id: str, targets: list[Target]
) -> dict[str, Resource]:
    """Creates the targets that do not exist yet (named by their value, with impt's
    message) and returns all of them by relationship name."""
    relationships: dict[str, Resource] = {}
    for target in targets:
        if target.resource is None:
            target.resource = resources.create_device_group(
                inv.client,
                inv.cache,
                dg_api_type(target.kind.required_type(dg_type)),
                target.value,
                product_id,
            )
            inv.out.info(f'Device Group "{target.value}" is created successfully.')
        relationships[target.kind.relationship] = target.resource
    return relationships


def resolve_targets(
    inv: Invocation, dg_type: str, product_id: str, target: str | None, dut: str | None
) -> dict[str, Resource]:
    """`--target` and `--dut` of `dg create`/`dg update`: existing groups only, by
    relationship name (the keywords of `resources.create_device_group`)."""
    found = find_targets(inv, dg_type, product_id, {PRODUCTION: target, DUT: dut})
    return {t.kind.relationship: t.resource for t in found if t.resource is not None}
