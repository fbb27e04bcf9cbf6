"""The package's import structure: layers import downwards only (shell → commands → services
→ api client), no module imports one that imports it back, and no import hides inside a
function to dodge a loop.

Only imports that run are counted: module-level ones, including those in `try`/`if` blocks,
but not those under `if TYPE_CHECKING:` (type hints only)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "imptsh"

# (module, function) -> the imptsh modules it may import when it runs, and why.
LAZY_IMPORTS = {
    # cmd2 and prompt_toolkit take a while to load; one-shot commands never need them.
    ("imptsh.cli", "_make_shell"): {"imptsh.shell"},
    # `--version`, `--help` and a bad flag answer before anything that runs commands loads.
    ("imptsh.cli", "_main"): {"imptsh.bundled_sim", "imptsh.session"},
    ("imptsh.cli", "simulator"): {"imptsh.bundled_sim"},
    ("imptsh.cli", "_endpoint_banner"): {"imptsh.context"},
    ("imptsh.cli", "run"): {"imptsh.commands.runner", "imptsh.script"},
    # the log machinery loads with the first log task, not with every session.
    ("imptsh.session", "log_tasks"): {"imptsh.logs"},
    # a restart loads the log commands only with --log.
    ("imptsh.commands.follow", "following"): {"imptsh.commands.log"},
    # only an `imptsh --sim` session starts the simulator (in the background).
    ("imptsh.bundled_sim", "_start_simulator"): {"imptsh.sim.server"},
    # The Squirrel VM loads only in the runner's own processes, never in the simulator's:
    # the package imports its runner on first use, and the fork server loads the VM side.
    ("imptsh.sim.squirrel", "__getattr__"): {"imptsh.sim.squirrel.runner"},
    ("imptsh.sim.squirrel.zygote", "_serve"): {
        "imptsh.sim.squirrel.busy",
        "imptsh.sim.squirrel.host",
    },
    ("imptsh.sim.squirrel.zygote", "_become_worker"): {
        "imptsh.sim.squirrel.busy",
        "imptsh.sim.squirrel.compiler",
        "imptsh.sim.squirrel.host",
    },
    # pygments loads only when something is highlighted on a terminal.
    ("imptsh.highlight", "_squirrel_lexer"): {"imptsh.squirrel.pygments_lexer"},
    # the log-stream reader (urllib3, sseclient) loads with the first stream.
    ("imptsh.api.client", "stream_events"): {"imptsh.api.events"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}

# Modules imported by name rather than by an import statement, with the one module that may
# do so: the command registry imports a group's module when the group is first used.
REGISTRY = "imptsh.commands.registry"
DYNAMIC_IMPORTERS = {REGISTRY}


def _group_modules() -> set[str]:
    from imptsh.commands.registry import GROUP_DESCRIPTIONS

    return {f"imptsh.commands.{name}" for name in GROUP_DESCRIPTIONS}


def _package_of(module: str) -> str:
    return module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The imptsh modules an import statement loads."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.split(".")[0] == "imptsh":
                yield alias.name
        return
    if node.level:
        base = _package_of(module)
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    if source.split(".")[0] != "imptsh":
        return
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        # `from package import submodule` loads the submodule; any other name is the package's
        yield submodule if submodule in MODULES else source


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node):
                yield from _module_level(node.body)
            yield from _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _module_level(block)
            for handler in node.handlers:
                yield from _module_level(handler.body)


def _tree(module: str) -> ast.Module:
    return ast.parse(MODULES[module].read_text(encoding="utf-8"))


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        found = set()
        for node in _module_level(_tree(module).body):
            found.update(t for t in _targets(module, node) if t != module)
        graph[module] = found
    graph[REGISTRY] |= _group_modules()  # imported on first use, but imported all the same
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def function_imports() -> Iterator[tuple[str, str, str, int]]:
    """(module, function, imported imptsh module, line) for imports inside functions."""
    for module in MODULES:
        for func in ast.walk(_tree(module)):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    for target in _targets(module, node):
                        yield module, func.name, target, node.lineno


def test_the_walk_sees_the_package() -> None:
    graph = import_graph()
    assert "imptsh.commands.registry" in graph
    assert "imptsh.commands.dg" in graph["imptsh.commands.registry"]  # by name, on first use
    assert "imptsh.commands.spec" in graph["imptsh.commands.dg"]
    assert "imptsh.api.client" in graph["imptsh.api.resources"]
    assert "imptsh.commands.spec" not in graph["imptsh.invocation"]  # under TYPE_CHECKING


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert cycles(import_graph()) == []


def test_a_loop_is_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_import_hides_in_a_function() -> None:
    hidden = [
        f"{module}.{func} imports {target} (line {line})"
        for module, func, target, line in function_imports()
        if target not in LAZY_IMPORTS.get((module, func), set())
    ]
    assert hidden == []


def test_only_the_registry_imports_modules_by_name() -> None:
    """`importlib.import_module` and `__import__` would hide an import from this walk."""
    by_name = sorted(
        f"{module}:{node.lineno}"
        for module in MODULES
        for node in ast.walk(_tree(module))
        if isinstance(node, ast.Call)
        and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
        in ("import_module", "__import__")
        and module not in DYNAMIC_IMPORTERS
    )
    assert by_name == []


def test_the_registry_names_real_group_modules() -> None:
    for module in _group_modules():
        assert module in MODULES, module


def test_the_allowed_lazy_imports_still_exist() -> None:
    found = {(module, func, target) for module, func, target, _ in function_imports()}
    for (module, func), targets in LAZY_IMPORTS.items():
        for target in targets:
            assert (module, func, target) in found, (module, func, target)


def _importers(graph: dict[str, set[str]], prefix: str) -> dict[str, set[str]]:
    return {
        module: {t for t in targets if t == prefix or t.startswith(prefix + ".")}
        for module, targets in graph.items()
        if not (module == prefix or module.startswith(prefix + "."))
    }


@pytest.mark.parametrize(
    ("layer", "may_import_it"),
    [
        # the client layer: nothing above it imports it back
        # (history.py belongs to the shell: it masks secrets by the commands' options)
        # (script.py runs scripts' impt commands itself, and hands the rest to the shell)
        ("imptsh.commands", {"imptsh.cli", "imptsh.shell", "imptsh.history", "imptsh.script"}),
        ("imptsh.shell", {"imptsh.cli"}),
        # (the shell runs `run_script` files with script.py's line loop)
        ("imptsh.script", {"imptsh.cli", "imptsh.shell"}),
        ("imptsh.cli", {"imptsh.__main__"}),
        # only the entry point starts the simulator, and only when asked to (`--sim`)
        ("imptsh.sim", set()),
    ],
)
def test_layers_are_imported_from_above_only(layer: str, may_import_it: set[str]) -> None:
    importers = {m for m, t in _importers(import_graph(), layer).items() if t}
    assert importers <= may_import_it, sorted(importers - may_import_it)


def test_the_api_layer_imports_only_what_is_below_it() -> None:
    below = {"imptsh", "imptsh.cache", "imptsh.entities"}
    for module, targets in import_graph().items():
        if module.startswith("imptsh.api"):
            outside = {t for t in targets if not t.startswith("imptsh.api")} - below
            assert outside == set(), module


def test_commands_change_impcentral_only_through_the_resource_functions() -> None:
    """No command module sends a write request or edits the entity cache itself."""
    writes = {"post", "put", "patch", "delete"}
    edits = {"put", "store", "invalidate", "forget", "clear"}
    found = []
    for module in MODULES:
        if not module.startswith("imptsh.commands.") and module not in (
            "imptsh.listing",
            "imptsh.deletion",
        ):
            continue
        for node in ast.walk(_tree(module)):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            owner = node.func.value
            owner_name = (
                owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            )
            if (owner_name == "client" and node.func.attr in writes) or (
                owner_name == "cache" and node.func.attr in edits
            ):
                found.append(f"{module}:{node.lineno} {owner_name}.{node.func.attr}")
    assert found == []
