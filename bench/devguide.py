"""The benchmark's script: 50 impt commands that follow impt's Development Guide (log in,
create a Product and its Device Groups, assign Devices, deploy, list, look, update, restart,
read logs, set up the factory groups, clean everything up).

It starts from a freshly reset simulator (the `demo` account with its three unassigned
devices `myDevice1`..`myDevice3`) in an empty directory, logs in with a local Auth File
(so each step also runs as a process of its own) and leaves nothing behind. Every step says
the fewest HTTP requests a fresh process could send for it, one whose Auth File holds a
valid token and that has fetched nothing yet (impt's situation on every command), and why:
a name costs one list request (no endpoint finds by name), the current account one
`GET /accounts/me` wherever an `Owner` is shown only when it is someone else, and the
output impt prints decides what must be fetched. A shell session may send fewer: it keeps
what it has fetched (the current account, lists) from one command to the next."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    line: str
    """The command line (impt's words; `{endpoint}` is the simulator's URL)."""
    minimum: int
    """The fewest requests a fresh process could send for it."""
    why: str


PRODUCT = "BenchProduct"
DEV_DG = "BenchDevDG"

STEPS: tuple[Step, ...] = (
    Step(
        "auth login --local --endpoint {endpoint} --user demo --pwd demo",
        1,
        "POST /auth",
    ),
    Step("auth info", 1, "the account's username and email: /accounts/me"),
    Step("account info", 1, "/accounts/me"),
    Step(
        f'product create --name {PRODUCT} --descr "The benchmark\'s product"',
        1,
        "POST; the server refuses a duplicate name",
    ),
    Step("product list", 2, "the list; /accounts/me (Owner shown when not mine)"),
    Step(f"product info --product {PRODUCT}", 2, "a name: one list; /accounts/me (Owner)"),
    Step(
        f'product update --product {PRODUCT} --descr "Application firmware"',
        2,
        "a name: one list; PATCH",
    ),
    Step(
        f'project create --product {PRODUCT} --name {DEV_DG} --descr "Development"',
        3,
        "a name: one list; POST (its answer is the group shown); /accounts/me (Owner)",
    ),
    Step("project info", 3, "the Project's group by id; its Product's name; /accounts/me"),
    Step(
        'project update --descr "Development of the application firmware"',
        4,
        "the group (its type goes in the PATCH); PATCH; its Product's name; /accounts/me",
    ),
    Step(
        f"dg list --product {PRODUCT}",
        3,
        "a name: one list; the filtered list; /accounts/me",
    ),
    Step("dg info", 3, "the Project's group; its Product's name; /accounts/me"),
    Step("device list --unassigned", 2, "the filtered list; /accounts/me"),
    Step(
        "device assign --device myDevice1",
        3,
        "a name: one list; the Project's group (its name in the message); POST",
    ),
    Step(
        f"device assign --device myDevice2 --dg {DEV_DG}",
        3,
        "two names: two lists; POST",
    ),
    Step(
        "device info --device myDevice1",
        4,
        "a name: one list; /accounts/me; its group; its Product",
    ),
    Step(
        "device update --device myDevice3 --name BenchSpare",
        2,
        "a name: one list; PATCH",
    ),
    Step(
        'build deploy --descr "First build" --tag v1',
        2,
        "the Project's group (its type decides the firmware checks); POST",
    ),
    Step(
        f"build list --product {PRODUCT}",
        4,
        "a name: one list; the filtered list; /accounts/me; the groups' names (one list)",
    ),
    Step(
        "build info --build v1",
        4,
        "a tag: one list; /accounts/me; its group; its Product",
    ),
    Step(
        'build update --build v1 --descr "Release candidate 1" --tag RC1 --flagged',
        2,
        "a tag: one list (its tags are merged); PATCH",
    ),
    Step("dg restart", 3, "the Project's group; its devices (listed); POST restart"),
    Step("device restart --device myDevice1", 2, "a name: one list; POST restart"),
    Step(
        'build run --descr "Second build" --tag v2',
        6,
        "the group; POST; PUT min supported; PATCH the group's description (impt's "
        "build run sets both); its devices; POST restart",
    ),
    Step("dg builds", 3, "the Project's group; its builds; /accounts/me"),
    Step(
        "log get --device myDevice1 --page-size 5 --page-number 1",
        2,
        "a name: one list; one page of logs",
    ),
    Step(
        "webhook create --url http://127.0.0.1:9/hook --event deployment --mime json",
        2,
        "the Project's group; POST",
    ),
    Step(
        f"webhook list --dg {DEV_DG}",
        3,
        "a name: one list; the filtered list; /accounts/me (webhooks have owners)",
    ),
    Step(
        f"dg create --name BenchPreProduction --dg-type pre-production --product {PRODUCT}",
        2,
        "a name: one list; POST",
    ),
    Step(
        f"dg create --name BenchPreDUT --dg-type pre-dut --product {PRODUCT}",
        2,
        "a name: one list; POST",
    ),
    Step(
        f"dg create --name BenchPreFactory --dg-type pre-factory --product {PRODUCT} "
        "--target BenchPreProduction --dut BenchPreDUT",
        3,
        "a Product name: one list; both targets: one list of groups; POST",
    ),
    Step(
        "build copy --build RC1 --dg BenchPreProduction",
        3,
        "a tag: one list (with its code); a name: one list; POST",
    ),
    Step(
        'build deploy --dg BenchPreDUT --descr "Tests" --tag TestsRC1',
        2,
        "a name: one list; POST",
    ),
    Step(
        "dg info --dg BenchPreFactory",
        3,
        "a name: one list; its Product's name; /accounts/me",
    ),
    Step(
        "device unassign --device myDevice2",
        2,
        "a name: one list (its group is in it); DELETE",
    ),
    Step(
        "device assign --device myDevice2 --dg BenchPreFactory",
        3,
        "two names: two lists; POST",
    ),
    Step(
        'build deploy --dg BenchPreFactory --descr "Factory firmware" --tag FactoryRC1 --flagged',
        2,
        "a name: one list; POST",
    ),
    Step(
        "dg restart --dg BenchPreFactory",
        3,
        "a name: one list; its devices; POST restart",
    ),
    Step(
        f"dg reassign --from BenchPreFactory --to {DEV_DG}",
        3,
        "both names: one list of groups; the source's devices; POST",
    ),
    Step(
        f"device list --dg {DEV_DG}",
        3,
        "a name: one list; the filtered list; /accounts/me",
    ),
    Step("dg list", 3, "the list; /accounts/me; the Products' names (one list)"),
    Step(
        f"product info --product {PRODUCT} --full",
        6,
        "a name: one list; its groups, devices, webhooks and builds; /accounts/me",
    ),
    Step(
        f"dg unassign --dg {DEV_DG}",
        3,
        "a name: one list; its devices; DELETE",
    ),
    Step(
        "device info --device BenchSpare",
        2,
        "a name: one list; /accounts/me (no group: nothing else to show)",
    ),
    Step(
        "dg delete --dg BenchPreFactory --force --confirmed",
        5,
        "a name: one list; its devices and builds; PATCH to unflag the flagged one; DELETE",
    ),
    Step(
        "dg delete --dg BenchPreDUT --force --confirmed",
        4,
        "a name: one list; its devices and builds; DELETE",
    ),
    Step(
        "dg delete --dg BenchPreProduction --force --confirmed",
        4,
        "a name: one list; its devices and builds; DELETE",
    ),
    Step(
        "project delete --all --confirmed",
        10,
        "the group; the Product's groups (is it otherwise empty?); the Product; the "
        "group's devices and builds; PATCH to unflag; DELETE the group, the Product and "
        "the 2 builds (impt's order)",
    ),
    Step("product list", 1, "the list (empty: no Owner to decide)"),
    Step("auth logout --local", 0, "deletes the local Auth File"),
)


def script_lines(endpoint: str) -> list[str]:
    """The script's command lines for the simulator at `endpoint` (…/v5)."""
    return [step.line.replace("{endpoint}", endpoint) for step in STEPS]
