"""The house shape (issue 13, docs/architecture.md): host_tools is a library and its
commands are thin. Every import counts, function-level ones included."""

import ast
from pathlib import Path

from host_tools.paths import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "host_tools"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def host_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")
            if "__pycache__" not in p.parts and "guest" not in p.parts
            and "twins" not in p.parts}


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """The host_tools modules `path` imports anywhere in it (an `import a.b` or
    `from a import b` names module a.b when that is a module, else a)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        else:
            continue
        out.update(t for t in targets if t in known and t != name)
    return out


def graph() -> dict[str, set[str]]:
    mods = host_modules()
    return {name: imports_of(path, name, set(mods)) for name, path in mods.items()}


def is_command(name: str) -> bool:
    return name.startswith("host_tools.commands.")


def test_nothing_outside_the_commands_imports_them():
    bad = sorted((m, t) for m, targets in graph().items() for t in targets
                 if (is_command(t) or t == "host_tools.commands")
                 and not is_command(m) and m not in ("host_tools.cli", "host_tools.commands"))
    assert bad == []


def test_no_command_imports_another():
    shared = {"host_tools.commands._port"}  # argument and port helpers, not a command
    bad = sorted((m, t) for m, targets in graph().items() for t in targets
                 if is_command(m) and is_command(t) and t not in shared)
    assert bad == []


def test_no_import_cycles():
    g = graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(g[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for start in sorted(g):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def test_the_checks_see_function_level_imports(tmp_path):
    mod = tmp_path / "x.py"
    mod.write_text("def f():\n    from host_tools.commands import deploy\n")
    known = {"host_tools.commands", "host_tools.commands.deploy"}
    assert imports_of(mod, "host_tools.x", known) == {"host_tools.commands.deploy"}
