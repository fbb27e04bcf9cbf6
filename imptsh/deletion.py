"""impt's deletion engine (commands.md §9): collect, show a summary, confirm, execute in a
fixed order. Every delete command builds a `DeletionPlan` and hands it to `execute`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .api.errors import ImpCentralError, NotFoundError
from .commands.common import rel_id
from .commands.runner import Invocation
from .entities import ENTITIES, FACTORY_TYPES, dg_cli_type
from .views import short_view, truncate_blocks

Resource = dict[str, Any]

DELETE_ORDER = ("dg", "product", "device", "build", "loginkey", "account", "webhook")
SUMMARY_ORDER = ("product", "dg", "device", "build", "loginkey", "account", "webhook")


@dataclass
class Doomed:
    kind: str
    resource: Resource
    ident: str
    headers: dict[str, str] | None = None


@dataclass
class DeletionPlan:
    delete: list[Doomed] = field(default_factory=list)
    unassign: list[Resource] = field(default_factory=list)
    remove: list[tuple[Resource, str]] = field(default_factory=list)
    unflag: list[Resource] = field(default_factory=list)
    unflag_idents: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    project_file: Path | None = None
    project_summary: str | None = None

    def add(self, kind: str, resource: Resource, ident: str | None = None, **kw: Any) -> None:
        if not any(d.kind == kind and d.resource["id"] == resource["id"] for d in self.delete):
            self.delete.append(Doomed(kind, resource, ident or resource["id"], **kw))

    def add_unassign(self, device: Resource) -> None:
        if all(d["id"] != device["id"] for d in self.unassign):
            self.unassign.append(device)

    def add_unflag(self, build: Resource, ident: str | None = None) -> None:
        if all(b["id"] != build["id"] for b in self.unflag):
            self.unflag.append(build)
            if ident is not None:
                self.unflag_idents[build["id"]] = ident


def summary_lines(plan: DeletionPlan) -> list[tuple[str, list[dict[str, Any]], str | None]]:
    sections = []
    entities: list[dict[str, Any]] = []
    mores: list[str] = []
    for kind in SUMMARY_ORDER:
        blocks = [short_view(kind, d.resource) for d in plan.delete if d.kind == kind]
        shown, more = truncate_blocks(blocks)
        entities.extend(shown)
        if more:
            mores.append(more)
    if entities:
        sections.append(
            ("The following entities will be deleted:", entities, "\n".join(mores) or None)
        )
    for title, kind, items in (
        ("The following Devices will be unassigned from Device Groups:", "device", plan.unassign),
        (
            "The following Devices will be removed from the account:",
            "device",
            [d for d, _ in plan.remove],
        ),
        (
            'The following Deployments are marked "flagged" to prevent deleting. They will be '
            'modified by setting "flagged" attribute to false:',
            "build",
            plan.unflag,
        ),
    ):
        if items:
            shown, more = truncate_blocks([short_view(kind, r) for r in items])
            sections.append((title, shown, more))
    return sections


def show_summary(inv: Invocation, plan: DeletionPlan) -> None:
    out = inv.out
    for title, blocks, more in summary_lines(plan):
        out.dialog(title)
        if out.is_json:
            from .output.render import format_text

            out.dialog(format_text(blocks))
        else:
            out.blocks(blocks)
        if more:
            out.dialog(more)
        out.dialog("")
    if plan.files:
        out.dialog("The following files will be deleted:")
        out.dialog("Device/agent source files: " + ", ".join(plan.files))
        out.dialog("")
    if plan.project_summary:
        out.dialog(plan.project_summary)


def execute(
    inv: Invocation, plan: DeletionPlan, after_confirm: Callable[[], None] | None = None
) -> None:
    """Summary + confirmation (unless `--confirmed`), then `after_confirm` (e.g. a password
    prompt impt asks only once the user agreed), then the steps in impt's order."""
    if not getattr(inv.args, "confirmed", False):
        show_summary(inv, plan)
        inv.confirm()
    if after_confirm is not None:
        after_confirm()
    client, out, cache = inv.client, inv.out, inv.cache
    for device in plan.unassign:
        dg_id = rel_id(device, "devicegroup")
        ident = f'Device "{device["id"]}"'
        try:
            client.delete(
                f"/devicegroups/{dg_id}/relationships/devices",
                {"data": [{"type": "device", "id": device["id"]}]},
            )
            out.info(f"{ident} is unassigned successfully.")
        except ImpCentralError as exc:
            if not _all_not_found(exc):
                raise
            out.info(f"{ident} is already unassigned.")
        cache.invalidate("device")
    for build in plan.unflag:
        ident = f'Deployment "{plan.unflag_idents.get(build["id"], build["id"])}"'
        try:
            client.patch(
                f"/deployments/{build['id']}",
                {
                    "data": {
                        "type": "deployment",
                        "id": build["id"],
                        "attributes": {"flagged": False},
                    }
                },
            )
            out.info(f"{ident} is updated successfully.")
        except NotFoundError:
            out.info(f"{ident} is already deleted.")
    for doomed in sorted(plan.delete, key=_delete_rank):
        entity = ENTITIES[doomed.kind]
        ident = f'{entity.type_name} "{doomed.ident}"'
        path = f"{entity.collection}/{doomed.resource['id']}"
        try:
            client.delete(path, headers=doomed.headers)
            out.info(f"{ident} is deleted successfully.")
        except NotFoundError:
            out.info(f"{ident} is already deleted.")
        cache.forget(doomed.kind, doomed.resource["id"])
    for device, ident in plan.remove:
        client.delete(f"/devices/{device['id']}")
        out.info(f'Device "{ident}" is removed successfully.')
        cache.forget("device", device["id"])
    if plan.files:
        for name in plan.files:
            Path(name).unlink(missing_ok=True)
        quoted = ", ".join(f'"{n}"' for n in plan.files)
        out.info(f"Device/agent source files {quoted} are deleted successfully.")
    if plan.project_file is not None:
        plan.project_file.unlink(missing_ok=True)
        out.info("Project is deleted successfully.")


def _delete_rank(doomed: Doomed) -> tuple[int, int]:
    rank = DELETE_ORDER.index(doomed.kind)
    has_targets = doomed.kind == "dg" and dg_cli_type(doomed.resource.get("type")) in FACTORY_TYPES
    return (rank, 0 if has_targets else 1)


def _all_not_found(exc: ImpCentralError) -> bool:
    if exc.status == 404:
        return True
    return exc.status == 400 and all(str(e.get("status")) == "404" for e in exc.errors)
