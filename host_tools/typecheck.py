"""Type-check firmware/ against the MicroPython stubs of each board, with pyright.

    python -m host_tools.typecheck [--board esp32|rp2]

The stub packages are installed per board into .stubs/<board> (git-ignored)
on first use, with the versions pinned in pyproject.toml [tool.copflow.stubs];
docs/typecheck.md says why they are not installed into the environment.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.paths import FIRMWARE_DIR, PROJECT_ROOT

BOARDS = ("esp32", "rp2")
STUBS_DIR = PROJECT_ROOT / ".stubs"


@dataclass
class TypecheckResult:
    board: str
    errors: int
    warnings: int
    files: int
    diagnostics: list[str]


def stub_requirement(board: str) -> str:
    with open(PROJECT_ROOT / "pyproject.toml", "rb") as f:
        table = tomllib.load(f)["tool"]["copflow"]["stubs"]
    return table[board]


def ensure_stubs(board: str) -> Path:
    """The board's stub folder, installed on first use (and again when the pinned
    version changes). pip installs into a private folder that is then renamed into
    place, so two runs at once (parallel tests) never see a half-installed one."""
    target = STUBS_DIR / board
    requirement = stub_requirement(board)
    marker = target / ".copflow-requirement"
    if marker.exists() and marker.read_text() == requirement:
        return target
    STUBS_DIR.mkdir(exist_ok=True)
    staging = STUBS_DIR / f".{board}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--upgrade",
           "--target", str(staging), requirement, "micropython-stdlib-stubs"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise CopflowError(f"could not install {requirement} into {target}: "
                           f"{proc.stderr.strip().splitlines()[-1:]}")
    (staging / marker.name).write_text(requirement)
    if marker.exists() and marker.read_text() == requirement:  # another run finished first
        shutil.rmtree(staging, ignore_errors=True)
        return target
    shutil.rmtree(target, ignore_errors=True)  # a stale version
    try:
        os.replace(staging, target)
    except OSError:  # another run put its copy in place meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return target


def excluded_for(board: str) -> list[str]:
    """Board-specific modules are checked only against their own board's stubs.

    Rule: firmware/boards/<board>*.py and any firmware file named *_<board>.py
    belong to that board only (patterns relative to the firmware folder).
    """
    out = []
    for other in BOARDS:
        if other != board:
            out += [f"boards/{other}*", f"**/*_{other}.py"]
    return out


def check(board: str, source: Path = FIRMWARE_DIR) -> TypecheckResult:
    stubs = ensure_stubs(board)
    rel = Path(os.path.relpath(source, STUBS_DIR)).as_posix()
    # pyright takes only relative paths, relative to the config file (in .stubs/).
    config = {
        "include": [rel],
        "exclude": [f"{rel}/{p}" for p in excluded_for(board)] + ["**/__pycache__"],
        "typeshedPath": stubs.name,
        "stubPath": stubs.name,
        "extraPaths": [rel],
        "pythonVersion": "3.11",
        "reportMissingModuleSource": False,
        "typeCheckingMode": "standard",
    }
    # One config file per check (checks may run at once, on other sources).
    cfg_path = STUBS_DIR / f"pyrightconfig-{board}-{os.getpid()}-{id(config)}.json"
    cfg_path.write_text(json.dumps(config, indent=2))
    try:
        proc = subprocess.run([sys.executable, "-m", "pyright", "--outputjson", "-p",
                               str(cfg_path)], cwd=PROJECT_ROOT, capture_output=True, text=True)
    finally:
        cfg_path.unlink(missing_ok=True)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise CopflowError(f"pyright gave no report: {proc.stderr.strip()[-300:]}") from exc
    # pyright also reports the stub packages' own inconsistencies (their
    # stdlib stubs disagree with typeshed's); only firmware/ is ours to fix.
    firmware = source.resolve()
    diags, errors, warnings, files = [], 0, 0, set()
    for d in report.get("generalDiagnostics", []):
        path = Path(d["file"]).resolve()
        if not path.is_relative_to(firmware):
            continue
        files.add(path)
        line = d["range"]["start"]["line"] + 1
        shown = path.relative_to(firmware.parent)
        diags.append(f"{shown}:{line}: {d['severity']}: {d['message']}")
        errors += d["severity"] == "error"
        warnings += d["severity"] == "warning"
    checked = len(list(firmware.rglob("*.py")))
    return TypecheckResult(board, errors, warnings, checked, diags)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m host_tools.typecheck")
    parser.add_argument("--board", choices=BOARDS, action="append")
    ns = parser.parse_args(argv)
    failed = False
    for board in ns.board or BOARDS:
        result = check(board)
        for line in result.diagnostics:
            print(line)
        print(f"{board}: {result.files} files, {result.errors} errors, "
              f"{result.warnings} warnings")
        failed = failed or result.errors > 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
