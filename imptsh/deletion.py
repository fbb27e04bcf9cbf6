"""impt's deletion engine (commands.md §9): collect, show a summary, confirm, execute in a
fixed order. Every delete command builds a `DeletionPlan` and hands it to `execute`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .api import resources
from .api.errors import ImpCentralError, NotFoundError
from .entities import FACTORY_TYPES, dg_cli_type
from .invocation import Invocation
from .output.render import format_text
from .views import ident_info, rel_id, short_view, truncate_blocks

Resource = dict[str, Any]

DELETE_ORDER = ("dg", "product", "device", "build", "loginkey", "account", "webhook")
SUMMARY_ORDER = ("product", "dg", "device", "build", "loginkey", "account", "webhook")


@dataclass
class Doomed:
    kind: str
    resource: Resource
    ident: str
    password: str | None = None  # a login key's deletion needs the account password


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

    def add(self, kind: str, resource: Resource, ident: str | None = None) -> Doomed:
        for doomed in self.delete:
            if doomed.kind == kind and doomed.resource["id"] == resource["id"]:
                return doomed
        doomed = Doomed(kind, resource, ident or resource["id"])
        self.delete.append(doomed)
        return doomed

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
    with out.progress("Unassigning", len(plan.unassign)) as progress:
        for device in plan.unassign:
            ident = f'Device "{device["id"]}"'
            try:
                resources.unassign_devices(
                    client, cache, rel_id(device, "devicegroup") or "", [device["id"]]
                )
                out.info(f"{ident} is unassigned successfully.")
            except ImpCentralError as exc:
                if not resources.already_unassigned(exc):
                    raise
                out.info(f"{ident} is already unassigned.")
            progress.step()
    with out.progress("Unflagging", len(plan.unflag)) as progress:
        for build in plan.unflag:
            ident = f'Deployment "{plan.unflag_idents.get(build["id"], build["id"])}"'
            try:
                resources.update_deployment(client, cache, build["id"], flagged=False)
                out.info(f"{ident} is updated successfully.")
            except NotFoundError:
                out.info(f"{ident} is already deleted.")
            progress.step()
    with out.progress("Deleting", len(plan.delete)) as progress:
        for doomed in sorted(plan.delete, key=_delete_rank):
            ident = ident_info(doomed.kind, doomed.ident)
            try:
                resources.delete_entity(
                    client, cache, doomed.kind, doomed.resource["id"], password=doomed.password
                )
                out.info(f"{ident} is deleted successfully.")
            except NotFoundError:
                out.info(f"{ident} is already deleted.")
            progress.step()
    with out.progress("Removing", len(plan.remove)) as progress:
        for device, ident in plan.remove:
            resources.delete_entity(client, cache, "device", device["id"])
            out.info(f'Device "{ident}" is removed successfully.')
            progress.step()
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
