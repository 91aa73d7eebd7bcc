"""`copflow deploy`: compile the firmware with mpy-cross, copy it with mpremote, reboot, check.

main.py stays source (a board runs /main.py); every other module goes as .mpy
bytecode, which loads without the compiler and so needs far less RAM at boot.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from host_tools import __version__, fwbuild, hwconfig
from host_tools.commands._port import add_port_arguments, board_port
from host_tools.errors import CopflowError
from host_tools.link import Link
from host_tools.paths import FIRMWARE_DIR

SOURCE_ONLY = ("main.py",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_port_arguments(parser)
    parser.add_argument("--board", choices=("esp32", "rp2"), default="esp32",
                        help="MicroPython port of the board (default esp32)")
    parser.add_argument("--profile",
                        help="board profile (esp32-devkitc, pico; default: the port's)")
    parser.add_argument("--hw", type=Path,
                        help="hardware config to install as /hw.json, checked first "
                             "(default: keep the board's, or the profile's default wiring)")


def build(out: Path, board: str, profile: str | None = None, hw: dict | None = None
          ) -> list[Path]:
    """The files a board gets: modules as .mpy, main.py as source, the board
    profiles, /board.json naming port and profile, and /hw.json if given."""
    files = []
    for src in sorted((FIRMWARE_DIR / "boards").glob("*.json")):
        dst = out / "boards" / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        files.append(dst)
    for src in sorted(FIRMWARE_DIR.rglob("*.py")):
        if "__pycache__" in src.parts or src.name in fwbuild.NOT_ON_BOARD:
            continue
        rel = src.relative_to(FIRMWARE_DIR)
        if rel.as_posix() in SOURCE_ONLY:
            dst = out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        else:
            dst = (out / rel).with_suffix(".mpy")
            fwbuild.compile_module(src, dst, rel.as_posix())  # help text stays on the host
        files.append(dst)
    write_board_files(out, board, profile, hw)
    return files


def write_board_files(out: Path, board: str, profile: str | None, hw: dict | None) -> None:
    """/board.json naming the port and profile; /hw.json when a config is given
    (otherwise the board keeps its own, or boots on the profile's default wiring)."""
    info = {"board": board}
    if profile:
        info["profile"] = profile
    (out / "board.json").write_text(json.dumps(info) + "\n")
    if hw is not None:
        (out / "hw.json").write_text(json.dumps(hw, indent=1) + "\n")


def mpremote(port: str, *args: str, timeout_s: float = 120) -> str:
    cmd = [sys.executable, "-m", "mpremote", "connect", port, *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise CopflowError(f"mpremote timed out on {port} ({' '.join(args[:2])})") from None
    if proc.returncode != 0:
        raise CopflowError(f"mpremote {' '.join(args[:2])} on {port} failed: "
                           f"{(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
    return proc.stdout


def run(args: argparse.Namespace) -> int:
    profile = args.profile or hwconfig.DEFAULT_PROFILE[args.board]
    spec = hwconfig.load_profile(profile)
    if spec["port"] != args.board:
        raise CopflowError(f"profile {profile} is a {spec['port']} board, not {args.board}")
    hw = hwconfig.read(args.hw) if args.hw else None
    if hw is not None:
        hwconfig.check(hw, profile, str(args.hw))
    with board_port(args, heap=spec["virtual_heap"]) as port, \
            tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fw"
        files = build(out, args.board, profile, hw)
        print(f"built {len(files)} files ({sum(f.stat().st_size for f in files)} bytes)")
        # Stale .py twins of modules now shipped as .mpy would be imported first.
        stale = [f.relative_to(out).with_suffix(".py").as_posix() for f in files
                 if f.suffix == ".mpy"]
        remove = ";".join(f"rm({p!r})" for p in stale)
        mpremote(port, "exec", "import os\ndef rm(p):\n try: os.remove(p)\n except OSError: pass\n"
                 + remove.replace(";", "\n"))
        mpremote(port, "fs", "cp", "-r", *[str(p) for p in sorted(out.iterdir())], ":")
        print(f"copied to {port}")
        errors: list[str] = []
        with Link(port, timeout_s=args.timeout,
                  on_unsolicited=lambda line: errors.append(line) if line.startswith("!error")
                  else None) as link:
            link.write_raw(b"\r\x03\r\x02")  # leave any raw REPL; reach the friendly REPL
            time.sleep(0.3)
            link.write_raw(b"\x04")  # soft reset: main.py runs
            boot = link.wait_for("!boot", 20.0)
            hello = link.command("hello").fields()
            time.sleep(2.5)  # a few ticks: the drivers' first readings, or their faults
            alarms = link.command("alarms").fields().get("names", "")
        if errors:
            raise CopflowError(f"{port}: the board booted with errors:\n  "
                               + "\n  ".join(e[len("!error "):] for e in errors))
        if hello.get("copflow") != __version__:
            raise CopflowError(f"board reports copflow {hello.get('copflow')}, "
                               f"expected {__version__}")
        print(f"{port}: {boot.split()[0][1:]} ok, hello reports copflow {hello['copflow']} "
              f"on {hello.get('board')}")
        if alarms and alarms != "-":
            print(f"{port}: alarms after boot: {alarms.replace(',', ' ')} "
                  "(docs/drivers.md#driver-alarm-codes)")
    return 0
