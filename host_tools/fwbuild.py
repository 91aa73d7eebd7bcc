"""How a firmware module becomes the .mpy a board imports (used by `copflow deploy`,
the virtual board and `copflow bench --memory`; docs/performance.md, "Memory").

Two things keep RAM on the board that nothing there reads, and both stay on the host:

- the help column of every `PARAMS` table (the controller's in core/config.py and
  each driver's): the board checks names, units and ranges, while the help is for
  people, and host tools read it from the source (`copflow param`, docs). The
  build blanks it to "" (an interned empty string: no heap), keeping every line
  where it was so that tracebacks from the board still point at the source;
- the host's absolute path of each source file, which mpy-cross would embed as the
  module's file name: it gets the path inside the firmware instead (core/config.py).
"""

import ast
import subprocess
import sys
import tempfile
from pathlib import Path

from host_tools.errors import CopflowError

HELP_INDEX = 5  # (name, unit, low, high, default, help)
# Firmware-tree files that are not modules of the board: the frozen-build manifest.
NOT_ON_BOARD = ("manifest.py",)


def _help_nodes(tree: ast.Module) -> list[ast.Constant]:
    nodes = []
    for node in tree.body:
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Tuple):
            continue
        if not any(isinstance(t, ast.Name) and t.id == "PARAMS" for t in node.targets):
            continue
        for entry in node.value.elts:
            if isinstance(entry, ast.Tuple) and len(entry.elts) == HELP_INDEX + 1:
                text = entry.elts[HELP_INDEX]
                if isinstance(text, ast.Constant) and isinstance(text.value, str):
                    nodes.append(text)
    return nodes


def strip_help(source: str) -> str:
    """`source` with the help text of its module-level PARAMS table blanked, every
    other character and every line number unchanged."""
    nodes = _help_nodes(ast.parse(source))
    if not nodes:
        return source
    data = source.encode()
    line_starts = [0]
    for line in data.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    # ast offsets are UTF-8 byte offsets within a line
    for node in sorted(nodes, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        start = line_starts[node.lineno - 1] + node.col_offset
        end = line_starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[operator]
        # A help text split over lines (implicit concatenation) keeps its line breaks,
        # which are harmless inside the table's parentheses.
        blank = b'""' + b"\n" * data[start:end].count(b"\n")
        data = data[:start] + blank + data[end:]
    return data.decode()


def compile_module(src: Path, dst: Path, rel: str) -> None:
    """mpy-cross `src` (at `rel` inside the firmware, e.g. "core/config.py") into `dst`."""
    source = strip_help(src.read_text())
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / src.name
        staged.write_text(source)
        proc = subprocess.run([sys.executable, "-m", "mpy_cross", "-s", rel, "-o", str(dst),
                               str(staged)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise CopflowError(f"mpy-cross failed on {rel}: {proc.stderr.strip()}")
