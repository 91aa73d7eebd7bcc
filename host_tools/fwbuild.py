"""How the firmware becomes the files a board gets: each module as the .mpy it imports
(used by `copflow deploy`, the virtual board and `copflow bench --memory`;
docs/performance.md, "Memory").

Two things keep RAM on the board that nothing there reads, and both stay on the host:

- the help column of every `PARAMS` table (the controller's in core/config.py and
  each driver's): the board checks names, units and ranges, while the help is for
  people, and host tools read it from the source (`copflow param`, docs). The
  build replaces it by the module global `_EMPTY`, which is "" (an interned
  empty string: no heap), keeping every line where it was so that tracebacks
  from the board still point at the source. Naming a global also makes each
  entry a tuple built when the module is imported instead of a constant of the
  .mpy: a constant tuple's strings are all loaded as heap str objects (32 bytes
  even for "%"), while a built one refers to the interned names the bytecode
  already has -- about 1.9 KB less heap for the controller's table alone
  (docs/performance.md, "Memory"). A frozen build (firmware/manifest.py) compiles
  the source as it is: there a constant tuple lives in flash, which is better;
- the host's absolute path of each source file, which mpy-cross would embed as the
  module's file name: it gets the path inside the firmware instead (core/config.py).

And strings cost less: string constants that are long identifiers are named
first so mpy-cross interns them (strip_help), and the text of every str constant
of a resident module is added to its .mpy's table of names so it loads as an
interned name, not a heap str (intern_strings).
"""

import ast
import contextlib
import io
import json
import keyword
import shutil
import tempfile
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.mpycross import compile_source
from host_tools.paths import FIRMWARE_DIR

HELP_INDEX = 5  # (name, unit, low, high, default, help)
EMPTY = "_EMPTY"  # the global "" the build defines in a module it rewrites
_INTERN_LEN = 10  # mpy-cross interns a string literal this long or shorter (py/parse.c)
# Firmware-tree files that are not modules of the board: the frozen-build manifest.
NOT_ON_BOARD = ("manifest.py",)
SOURCE_ONLY = ("main.py",)  # copied as source: the board runs main.py from its file
_COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For,
             ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith)


def _params_tables(tree: ast.Module) -> list[ast.Assign]:
    return [node for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Tuple)
            and any(isinstance(t, ast.Name) and t.id == "PARAMS" for t in node.targets)]


def _help_nodes(tree: ast.Module) -> list[ast.Constant]:
    nodes = []
    for node in _params_tables(tree):
        assert isinstance(node.value, ast.Tuple)
        for entry in node.value.elts:
            if isinstance(entry, ast.Tuple) and len(entry.elts) == HELP_INDEX + 1:
                text = entry.elts[HELP_INDEX]
                if isinstance(text, ast.Constant) and isinstance(text.value, str):
                    nodes.append(text)
    return nodes


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _built_tuple_marks(tree: ast.Module, skip: set[int]) -> list[ast.Constant]:
    """In each tuple assigned once, at import (module level or a class body at
    module level), the first string of every tuple holding strings: prefixed by
    `_EMPTY + ` it makes the tuple one built at import."""
    statements: list[ast.stmt] = []
    for node in tree.body:
        statements.append(node)
        if isinstance(node, ast.ClassDef):
            statements.extend(node.body)
    marks = []
    for node in statements:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        for sub in ast.walk(node.value):
            if isinstance(sub, ast.Tuple):
                strings = [e for e in sub.elts if _is_str(e)]
                if strings and not any(id(e) in skip for e in sub.elts):
                    marks.append(strings[0])
    return marks


def _name_strings(tree: ast.Module) -> list[str]:
    """String constants that are identifiers longer than the 10 characters mpy-cross
    interns by itself (parameter and config names: "manual_output_pct")."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and _is_str(body[0].value):
                docstrings.add(id(body[0].value))
    names = set()
    for node in ast.walk(tree):
        if _is_str(node) and id(node) not in docstrings:
            text = node.value  # type: ignore[attr-defined]
            if len(text) > _INTERN_LEN and text.isidentifier() and not keyword.iskeyword(text):
                names.add(text)
    return sorted(names)


def strip_help(source: str, resident: bool = True) -> str:
    """The board's source of a module, every line number unchanged:

    - the help text of its module-level PARAMS table replaced by `_EMPTY`;
    - in every tuple assigned at import that holds strings, the first string
      `s` written `_EMPTY + s`, which is `s` itself ("" + s is s on MicroPython,
      py/objstr.c) but no longer a constant, so the tuple is built at import
      from the interned names the bytecode has;
    - `_EMPTY = ""` defined in front of the first module-level statement (a
      module-level statement starts at column 0), as `(lambda: (name, ...)) and ""`
      when the module has strings that are long identifiers: naming them first
      makes mpy-cross compile each such string as an interned name, shared by
      every module, instead of a heap str per module. The lambda is never called.
      Not in a module loaded on demand (not `resident`): a name is never freed."""
    tree = ast.parse(source)
    helps = _help_nodes(tree)
    skip = {id(n) for n in helps}
    marks = _built_tuple_marks(tree, skip)
    names = _name_strings(tree) if resident else []
    if not helps and not marks and not names:
        return source
    data = source.encode()
    line_starts = [0]
    for line in data.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    edits = []  # (start, end, replacement); ast offsets are UTF-8 byte offsets in a line
    for node in helps:
        start = line_starts[node.lineno - 1] + node.col_offset
        end = line_starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[operator]
        # A help text split over lines (implicit concatenation) keeps its line breaks,
        # which are harmless inside the table's parentheses.
        edits.append((start, end, EMPTY.encode() + b"\n" * data[start:end].count(b"\n")))
    for node in marks:
        start = line_starts[node.lineno - 1] + node.col_offset
        edits.append((start, start, (EMPTY + " + ").encode()))
    strings = [n.lineno for n in ast.walk(tree) if _is_str(n)]
    first = min(n.lineno for n in helps + marks) if helps or marks else min(strings)
    if tree.body and not isinstance(tree.body[0], _COMPOUND) \
            and tree.body[0].end_lineno < min(strings):  # type: ignore[operator]
        at = tree.body[0].lineno  # before every string: the names can go there
    else:
        simple = [s for s in tree.body if s.lineno <= first and not isinstance(s, _COMPOUND)]
        if not simple:
            raise CopflowError(f"fwbuild: no module-level statement before line {first} "
                               f"to define {EMPTY}")
        at, names = simple[0].lineno, []
    value = '(lambda: (' + ", ".join(names) + ',)) and ""' if names else '""'
    edits.append((line_starts[at - 1],) * 2 + (f"{EMPTY} = {value}; ".encode(),))
    for start, end, text in sorted(edits, reverse=True):
        data = data[:start] + text + data[end:]
    return data.decode()


# Modules loaded for a moment and dropped (the boot's code, the store for a save or
# a load, the rare console commands, hil.py between sessions): their strings must
# stay heap objects that go with them, not interned for good.
ON_DEMAND = ("hw.py", "safe_plan.py", "drivers/params.py", "console_extra.py",
             "console_coeffs.py", "core/coeffs_check.py", "core/presets.py", "board.py",
             "boot_config.py", "store.py", "hal_build.py", "hil.py", "drivers/analog_setup.py",
             "drivers/pcnt_setup.py", "drivers/ds18b20_setup.py",
             "drivers/pulse_setup.py", "core/learned.py", "core/opt_window.py")
_OBJ_STR, _OBJ_BYTES, _OBJ_TUPLE = 5, 6, 10  # py/persistentcode.h MP_PERSISTENT_OBJ_*
_OBJ_NUMBERS = (7, 8, 9)  # int, float, complex: as text, no terminator
_QSTR_MAX_LEN = 255  # a name's length is one byte (MICROPY_QSTR_BYTES_IN_LEN)


def _read_uint(data: bytes, at: int) -> tuple[int, int]:
    value = 0
    while True:
        b = data[at]
        at += 1
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            return value, at


def _uint(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _strings(data: bytes, at: int, out: list[bytes]) -> int:
    """Skip one constant object at `at`, collecting the str constants in it."""
    kind = data[at]
    at += 1
    if kind == _OBJ_TUPLE:
        n, at = _read_uint(data, at)
        for _ in range(n):
            at = _strings(data, at, out)
    elif kind in (_OBJ_STR, _OBJ_BYTES):
        n, at = _read_uint(data, at)
        if kind == _OBJ_STR:
            out.append(data[at:at + n])
        at += n + 1
    elif kind in _OBJ_NUMBERS:
        n, at = _read_uint(data, at)
        at += n
    return at


def intern_strings(mpy: bytes) -> bytes:
    """`mpy` with the text of each of its str constants added at the end of its
    table of names. Loading a module interns its names first, and a str
    constant whose text is already a name is loaded as that name
    (`mp_obj_new_str_type_from_vstr`, py/objstr.c at v1.27.0) instead of a heap
    str: a name costs its length plus about 9 bytes, a heap str 16 bytes plus its
    length rounded up to 16. Names are only appended, so the bytecode's indices
    into the table stay valid. Format: py/persistentcode.c, mp_raw_code_load."""
    if mpy[0:2] != b"M\x06" or mpy[2] >> 2:
        raise CopflowError("fwbuild: not a bytecode .mpy of version 6")
    n_qstr, at = _read_uint(mpy, 4)
    n_obj, at = _read_uint(mpy, at)
    names = set()
    for _ in range(n_qstr):
        n, at = _read_uint(mpy, at)
        if not n & 1:  # not a name the firmware has built in
            names.add(mpy[at:at + (n >> 1)])
            at += (n >> 1) + 1
    qstrs_end = at
    strings: list[bytes] = []
    for _ in range(n_obj):
        at = _strings(mpy, at, strings)
    added = []
    for text in strings:
        if text not in names and len(text) <= _QSTR_MAX_LEN:
            names.add(text)
            added.append(_uint(len(text) << 1) + text + b"\0")
    if not added:
        return mpy
    header_end = 4 + len(_uint(n_qstr)) + len(_uint(n_obj))
    return (mpy[:4] + _uint(n_qstr + len(added)) + _uint(n_obj)
            + mpy[header_end:qstrs_end] + b"".join(added) + mpy[qstrs_end:])


def compile_module(src: Path, dst: Path, rel: str) -> None:
    """mpy-cross `src` (at `rel` inside the firmware, e.g. "core/config.py") into `dst`."""
    source = strip_help(src.read_text(), rel not in ON_DEMAND)
    mpy = compile_source(source, rel)
    if rel not in ON_DEMAND:
        mpy = intern_strings(mpy)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(mpy)


def build(out: Path, board: str, profile: str | None = None, hw: dict | None = None,
          firmware_dir: Path = FIRMWARE_DIR) -> list[Path]:
    """The files a board gets: modules as .mpy, main.py as source, the board
    profiles, /board.json naming port and profile, and /hw.json if given."""
    files = []
    for src in sorted((firmware_dir / "boards").glob("*.json")):
        dst = out / "boards" / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        files.append(dst)
    for src in sorted(firmware_dir.rglob("*.py")):
        if "__pycache__" in src.parts or src.name in NOT_ON_BOARD:
            continue
        rel = src.relative_to(firmware_dir)
        if rel.as_posix() in SOURCE_ONLY:
            dst = out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        else:
            dst = (out / rel).with_suffix(".mpy")
            compile_module(src, dst, rel.as_posix())  # help text stays on the host
        files.append(dst)
    write_board_files(out, board, profile, hw)
    return files


# With ROMFS (docs/deploy.md#romfs) these modules stay on the filesystem: main.py
# imports safe_out before anything else, so a ROMFS cut mid-write still gets its
# outputs made safe (a maintenance boot), and boot files are read as files.
ON_FILESYSTEM_WITH_ROMFS = ("safe_out.mpy",)
ROMFS_HEADER = b"\xd2\xcd\x31"  # extmod/vfs_rom.c ROMFS_HEADER_BYTE0..2


def romfs_image_bytes(partition: bytes) -> int:
    """The length of the ROMFS image at the start of a partition's bytes: the header,
    then the filesystem record's length as a varint, most significant group first
    (extmod/vfs_rom.c extract_record); 0 when there is none."""
    if not partition.startswith(ROMFS_HEADER):
        return 0
    size, at = 0, len(ROMFS_HEADER)
    while True:
        byte = partition[at]
        at += 1
        size = (size << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return at + size


def romfs_modules(out: Path) -> list[Path]:
    """The .mpy modules of a build in `out` that go into a ROMFS image."""
    return [p for p in sorted(out.rglob("*.mpy"))
            if p.relative_to(out).as_posix() not in ON_FILESYSTEM_WITH_ROMFS]


def split_romfs(out: Path) -> bytes:
    """Move the build's modules out of `out` into a ROMFS image (returned): `out`
    keeps what goes on the filesystem. The image is mpremote's own format
    (`mpremote romfs build`, the MicroPython project's tool)."""
    from mpremote.romfs import make_romfs

    with tempfile.TemporaryDirectory() as tmp:
        rom = Path(tmp) / "rom"
        folders = set()
        for mpy in romfs_modules(out):
            dst = rom / mpy.relative_to(out)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(mpy, dst)  # `out` may be on another filesystem than tmp
            folders.update(p for p in mpy.parents if out in p.parents)
        for folder in sorted(folders, key=lambda p: -len(p.parts)):  # the packages it emptied
            if not any(folder.iterdir()):
                folder.rmdir()
        with contextlib.redirect_stdout(io.StringIO()):  # it lists every file it packs
            return make_romfs(str(rom), mpy_cross=False)


def write_board_files(out: Path, board: str, profile: str | None, hw: dict | None) -> None:
    """/board.json naming the port and profile; /hw.json when a config is given
    (otherwise the board keeps its own, or boots on the profile's default wiring)."""
    info = {"board": board}
    if profile:
        info["profile"] = profile
    (out / "board.json").write_text(json.dumps(info) + "\n")
    if hw is not None:
        (out / "hw.json").write_text(json.dumps(hw, indent=1) + "\n")
