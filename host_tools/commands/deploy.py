"""`copflow deploy`: compile the firmware, then put it on a board so that no interruption
can leave a board that does not boot (docs/deploy.md).

1. Maintenance: a running copflow is asked for `maint` (it writes /maint and hard-resets; a
   hardware reset is the only thing that stops a running watchdog, and main.py then boots into
   the REPL with outputs safe and no watchdog). A board without copflow gets mpremote's Ctrl-C.
2. Stage: the files whose sha256 on the board differs from the build's go into the staging
   folder /new; the running firmware is not touched.
3. Verify: each staged file's sha256, computed on the board, must match the build's.
4. Switch: renames from /new into place, main.py last, under the maintenance flag, so a power
   cut in the middle of the switch boots into maintenance (a safe board, no watchdog, deploy
   runs again) and never into a mixed set of old and new modules.
5. Reboot and check the `!boot` banner and the version `hello` reports.

main.py stays source (a board runs /main.py); every other module goes as .mpy
bytecode, which loads without the compiler and so needs far less RAM at boot.
"""

import argparse
import hashlib
import shutil
import tempfile
import time
from pathlib import Path

from host_tools import __version__, fwbuild, hwconfig
from host_tools.commands._port import add_port_arguments, board_port, check_port
from host_tools.errors import CopflowError
from host_tools.link import Link
from host_tools.mpremote_run import mpremote

STAGE = "new"  # the staging folder on the board, /new
MAINT_FLAG = "/maint"  # main.py boots into maintenance when it finds this file
MAINT_WAIT_S = 30.0  # a hard reset and a maintenance boot
BOOT_WAIT_S = 30.0  # a normal boot, up to the !boot banner


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_port_arguments(parser)
    parser.add_argument("--board", choices=("esp32", "rp2"), default="esp32",
                        help="MicroPython port of the board (default esp32)")
    parser.add_argument("--profile",
                        help="board profile (esp32-devkitc, pico; default: the port's)")
    parser.add_argument("--romfs", action="store_true",
                        help="put the modules in the board's ROMFS partition, where they run "
                             "from flash (a MicroPython build with ROMFS; docs/deploy.md#romfs)")
    parser.add_argument("--hw", type=Path,
                        help="hardware config to install as /hw.json, checked first "
                             "(default: keep the board's, or the profile's default wiring)")


def stale_twins(entries: list[tuple[str, str]]) -> list[str]:
    """.py twins of modules shipped as .mpy: a board would import them first."""
    return [p[:-4] + ".py" for p, _ in entries if p.endswith(".mpy")]


def write_safe_file(out: Path, plan: dict) -> None:
    """/safe.json for a new /hw.json: the outputs main.py drives safe before anything
    else at the next boot (firmware/safe_out.py) must be the new wiring's, not the old."""
    import safe_plan  # firmware module; hwconfig.check put the firmware on the path

    (out / "safe.json").write_text(safe_plan.dumps(safe_plan.for_plan(plan)))


def manifest(out: Path) -> list[tuple[str, str]]:
    """(path on the board, sha256) of every file in the build, main.py last: the switch
    renames in this order, so the board's entry point changes only when the set is complete."""
    entries = []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out).as_posix()
        entries.append((rel, hashlib.sha256(path.read_bytes()).hexdigest()))
    entries.sort(key=lambda e: e[0] in fwbuild.SOURCE_ONLY)
    return entries


# ---- mpremote ---------------------------------------------------------------

# Board-side snippets (MicroPython). Small frames: the one collection (in show()) runs
# with only small frames active, as the host MicroPython needs (docs/micropython-host.md).
_RMTREE = """
import os
def rmtree(p):
    try:
        names = [e[0] for e in os.ilistdir(p)]
    except OSError:
        return
    for n in names:
        q = p + '/' + n
        try:
            os.remove(q)
        except OSError:
            rmtree(q)
    os.rmdir(p)
"""

_HASH = """
import gc, hashlib, binascii
B = bytearray(512)
M = memoryview(B)
def sha(p):
    d = hashlib.sha256()
    with open(p, 'rb') as f:
        while True:
            n = f.readinto(B)
            if not n:
                break
            d.update(B if n == 512 else M[:n])
    return binascii.hexlify(d.digest()).decode()
def show(base, p):
    if gc.mem_free() < 24000:
        gc.collect()  # about 1 KB of garbage a file: the host MicroPython runs with GC off
    try:
        print('=', p, sha(base + p))
    except OSError:
        print('=', p, '-')
"""

_SET_FLAG = f"f = open({MAINT_FLAG!r}, 'w')\nf.write('deploy\\n')\nf.close()"

_SWITCH = """
import os
def rm(p):
    try:
        os.remove(p)
    except OSError:
        pass
def mv(p):
    try:
        os.rename('/%s/' % STAGE + p, '/' + p)
    except OSError:
        rm('/' + p)
        os.rename('/%s/' % STAGE + p, '/' + p)
"""


def prepare_script() -> str:
    """An empty staging folder."""
    return f"STAGE = {STAGE!r}\n" + _RMTREE + "rmtree('/' + STAGE)\nos.mkdir('/' + STAGE)\n"


def hash_script(paths: list[str], base: str) -> str:
    """Prints `= PATH SHA256` (or `-` for a missing file) for each path under base."""
    return _HASH + "".join(f"show({base!r}, {p!r})\n" for p in paths)


def switch_script(moves: list[str], stale: tuple[str, ...] | list[str] = (),
                  limit: int | None = None) -> str:
    """The renames from the staging folder into place (`moves`, main.py last), between
    writing and removing the maintenance flag; `stale` files are removed first. `limit`
    stops after that many renames (what a power cut there leaves behind; tests use it)."""
    dirs = sorted({"/".join(p.split("/")[:i]) for p in moves for i in range(1, p.count("/") + 1)})
    lines = [f"STAGE = {STAGE!r}", _SWITCH, _RMTREE, _SET_FLAG]
    lines += [f"rm('/{p}')" for p in stale]
    # folders the stale files leave empty go too: an empty /core would be imported
    # as a namespace package ahead of /rom/core
    gone = sorted({"/".join(p.split("/")[:i]) for p in stale for i in range(1, p.count("/") + 1)},
                  key=lambda d: -d.count("/"))
    lines += [f"try:\n    os.rmdir('/{d}')\nexcept OSError:\n    pass" for d in gone]
    lines += [f"try:\n    os.mkdir('/{d}')\nexcept OSError:\n    pass" for d in dirs]
    renames = [f"mv({p!r})" for p in moves]
    if limit is not None:
        return "\n".join(lines + renames[:limit]) + "\n"
    lines += renames
    lines += [f"rm({MAINT_FLAG!r})", "rmtree('/' + STAGE)", f"print('switched', {len(moves)})"]
    return "\n".join(lines) + "\n"


_ROMFS_QUERY = """
try:
    import vfs
    d = vfs.rom_ioctl(2, 0) if vfs.rom_ioctl(1) > 0 else -1
except (ImportError, AttributeError):
    d = -1
print('= romfs', 0 if isinstance(d, int) else d.ioctl(4, 0) * d.ioctl(5, 0))
"""

# Read back with readblocks (the flash itself, in 512-byte pieces) rather than
# through the partition's memory map, which on the ESP32 goes through the flash cache.
_ROMFS_HASH = """
import hashlib, binascii
h = hashlib.sha256()
b = bytearray(512)
n = %d
at = 0
bs = d.ioctl(5, 0)
while at < n:
    m = memoryview(b)[:min(512, n - at)]
    d.readblocks(at // bs, m, at %% bs)
    h.update(m)
    at += len(m)
print('= image', binascii.hexlify(h.digest()).decode())
"""


def romfs_script(image_len: int) -> str:
    """Prints `= romfs SIZE` (0: no ROMFS partition) and, with one, `= image SHA256`
    of its first image_len bytes, read back from its flash."""
    return _ROMFS_QUERY + "if not isinstance(d, int):\n" + "".join(
        "    " + line + "\n" for line in _ROMFS_HASH.strip().splitlines()) % image_len


def romfs_state(port: str, image_len: int) -> tuple[int, str]:
    """(partition size, sha256 of its first image_len bytes) on the board; size 0: none."""
    found = dict(line.split()[1:3] for line in mpremote(port, "exec", romfs_script(image_len))
                 .splitlines() if line.startswith("= ") and len(line.split()) == 3)
    return int(found.get("romfs", "0")), found.get("image", "")


def write_romfs(port: str, out: Path, image: bytes) -> bool:
    """The image into the board's ROMFS partition, under the maintenance flag (a cut
    mid-write boots into maintenance; the switch removes the flag), then checked by
    sha256 on the board. False when the partition already holds it."""
    digest = hashlib.sha256(image).hexdigest()
    size, found = romfs_state(port, len(image))
    if size == 0:
        raise CopflowError(f"{port}: this board's MicroPython has no ROMFS partition "
                           "(stock ESP32_GENERIC and RPI_PICO builds have none): flash a "
                           "build with ROMFS, or deploy without --romfs (docs/deploy.md#romfs)")
    if len(image) > size:
        raise CopflowError(f"{port}: the ROMFS image is {len(image)} bytes, more than the "
                           f"board's {size}-byte partition")
    if found == digest:
        return False
    mpremote(port, "exec", _SET_FLAG + "\n")
    path = out.parent / "firmware.romfs"  # mpremote takes a file by its .romfs name
    path.write_bytes(image)
    mpremote(port, "romfs", "deploy", str(path))
    if romfs_state(port, len(image))[1] != digest:
        raise CopflowError(f"{port}: the ROMFS partition differs from the image after the "
                           "write; the board boots into maintenance: deploy again")
    return True


def leave_maintenance(port: str) -> None:
    """Soft reset from the REPL: main.py boots the firmware the board has."""
    with Link(port, timeout_s=5.0) as link:
        link.write_raw(b"\r\x03\r\x02")
        time.sleep(0.3)
        link.write_raw(b"\x04")


# ---- the steps ----------------------------------------------------------------

def reach_repl(port: str, timeout_s: float) -> None:
    """Ctrl-C, then Ctrl-A: the board must answer with its raw REPL banner. Checked here
    because mpremote waits forever on a board that sends nothing."""
    with Link(port, timeout_s=timeout_s) as link:
        link.write_raw(b"\r\x03\x03")
        time.sleep(0.2)
        link.write_raw(b"\r\x01")
        deadline = time.monotonic() + max(timeout_s, 5.0)
        seen = b""
        while time.monotonic() < deadline:
            try:
                chunk = link.serial.read(256)
            except OSError as exc:
                raise CopflowError(f"{port}: read failed: {exc}") from None
            seen += chunk
            if b"raw REPL; CTRL-B to exit" in seen:
                link.write_raw(b"\x02")  # back to the friendly REPL; mpremote takes over
                return
    raise CopflowError(f"{port}: the board does not answer (neither the copflow console nor "
                       "the MicroPython REPL): check the port and the cable")


def enter_maintenance(port: str, timeout_s: float) -> bool:
    """Ask a running copflow for `maint` and wait for its maintenance boot. True when the
    board is in maintenance; False when no copflow answered (a board without copflow, or one
    at its REPL already): mpremote's Ctrl-C then reaches the REPL."""
    with Link(port, timeout_s=timeout_s) as link:
        try:
            reply = link.request("maint", timeout_s)
        except CopflowError:
            return False  # no copflow console there
        if not reply.ok:
            if reply.code == "E_LOCKED":
                raise CopflowError(f"{port}: the console is locked; unlock it first "
                                   "(copflow console, `unlock PIN`)")
            if reply.code == "E_UNKNOWN":
                # Its watchdog would go on after Ctrl-C and could bite in the middle of the
                # switch, and its main.py would then run a mix of old and new modules.
                raise CopflowError(f"{port}: this copflow has no `maint` command, and its "
                                   "watchdog cannot be stopped: remove its main.py first "
                                   f"(mpremote connect {port} fs rm :main.py; "
                                   "docs/deploy.md#recovery), then deploy again")
            raise CopflowError(f"{port}: maint refused: {reply.code} {reply.body}")
        await_maintenance(port, timeout_s, link)
    return True


def await_maintenance(port: str, timeout_s: float, link: Link) -> None:
    """Wait for the maintenance boot's `!maint` on the open link. A board whose USB port
    re-enumerates at a hard reset (the Pico's) drops the port for a moment, and what it
    printed meanwhile is lost: once the port is back, a REPL prompt answers instead.
    (Opening a port flushes its input, so the link that sent `maint` is read first.)"""
    deadline = time.monotonic() + MAINT_WAIT_S
    try:
        outcome = _maint_outcome(link, deadline, False)
    except (CopflowError, OSError):  # the port went away
        outcome = "dropped"
    while outcome == "dropped":
        time.sleep(0.5)
        try:
            with Link(port, timeout_s=timeout_s) as again:
                outcome = _maint_outcome(again, deadline, True)
        except (CopflowError, OSError):  # not back yet
            if time.monotonic() >= deadline:
                raise CopflowError(f"{port}: the port did not come back within "
                                   f"{MAINT_WAIT_S:g} s after `maint`") from None
    if outcome == "boot":
        raise CopflowError(f"{port}: the board booted its firmware, not maintenance, "
                           "after `maint` (does its main.py know /maint?)")
    if outcome != "maint":
        raise CopflowError(f"{port}: no !maint line within {MAINT_WAIT_S:g} s after "
                           "`maint`: the board did not boot into maintenance")


def _maint_outcome(link: Link, deadline: float, dropped: bool) -> str | None:
    if not dropped:
        while True:
            line = link.read_line(deadline)
            if line is None:
                return None
            if line.startswith("!maint"):
                return "maint"
            if line.startswith("!boot"):
                return "boot"
    link.write_raw(b"\r\n")  # the REPL answers with a prompt; copflow ignores a blank line
    seen = b""
    while time.monotonic() < deadline:
        seen += link.serial.read(256)
        if b"!maint" in seen or b">>> " in seen:
            return "maint"
        if b"!boot" in seen:
            return "boot"
    return None


def board_hashes(port: str, paths: list[str], base: str = "/") -> dict[str, str]:
    """sha256 of each file on the board, computed there ("-" for a missing file)."""
    text = mpremote(port, "exec", hash_script(paths, base))
    found = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "=":
            found[words[1]] = words[2]
    return found


def changed(port: str, entries: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The entries whose file on the board differs from the build (only those travel)."""
    found = board_hashes(port, [p for p, _ in entries])
    return [(p, digest) for p, digest in entries if found.get(p) != digest]


def stage(port: str, out: Path, entries: list[tuple[str, str]] | None = None) -> None:
    """Copy the build's files (or only `entries`) into an empty /new on the board."""
    if entries is not None:
        subset = out.parent / (out.name + "-changed")
        if subset.exists():
            shutil.rmtree(subset)
        subset.mkdir(parents=True)
        for path, _ in entries:
            (subset / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(out / path, subset / path)
        out = subset
    items = [str(p) for p in sorted(out.iterdir())]
    args = ["exec", prepare_script()]
    if items:
        args += ["+", "fs", "cp", "-r", "-f", *items, f":{STAGE}/"]
    mpremote(port, *args)


def verify(port: str, entries: list[tuple[str, str]]) -> None:
    found = board_hashes(port, [p for p, _ in entries], f"/{STAGE}/")
    bad = [p for p, digest in entries if found.get(p) != digest]
    if bad:
        raise CopflowError(f"{port}: {len(bad)} staged file(s) differ from the build "
                           f"({', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''}); "
                           "the firmware on the board is unchanged: deploy again")


def switch(port: str, moves: list[tuple[str, str]], stale: list[str]) -> None:
    text = mpremote(port, "exec", switch_script([p for p, _ in moves], stale))
    if f"switched {len(moves)}" not in text:
        raise CopflowError(f"{port}: the switch did not complete ({text.strip()[-200:]!r}); "
                           "the board boots into maintenance: deploy again")


def reboot_and_check(port: str, timeout_s: float) -> None:
    errors: list[str] = []

    def unsolicited(line: str) -> None:
        if line.startswith("!error"):
            errors.append(line)

    with Link(port, timeout_s=timeout_s, on_unsolicited=unsolicited) as link:
        link.write_raw(b"\r\x03\r\x02")  # leave any raw REPL; reach the friendly REPL
        time.sleep(0.3)
        link.write_raw(b"\x04")  # soft reset: main.py runs
        deadline = time.monotonic() + BOOT_WAIT_S
        while True:
            line = link.read_line(deadline)
            if line is None:
                raise CopflowError(f"{port}: no !boot line within {BOOT_WAIT_S:g} s after the "
                                   "switch (docs/deploy.md#recovery)")
            if line.startswith("!maint"):
                raise CopflowError(f"{port}: the board booted into maintenance after the "
                                   "switch: deploy again")
            if line.startswith("!boot"):
                boot = line
                break
            if line.startswith("!"):
                unsolicited(line)
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


def run(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        raise CopflowError("--timeout must be positive")
    if args.port:
        check_port(args.port)  # before the build: a missing device is named at once
    profile = args.profile or hwconfig.DEFAULT_PROFILE[args.board]
    spec = hwconfig.load_profile(profile)
    if spec["port"] != args.board:
        raise CopflowError(f"profile {profile} is a {spec['port']} board, not {args.board}")
    hw = hwconfig.read(args.hw) if args.hw else None
    plan = hwconfig.check(hw, profile, str(args.hw)) if hw is not None else None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fw"
        fwbuild.build(out, args.board, profile, hw)
        if plan is not None:
            write_safe_file(out, plan)
        in_romfs = [p.relative_to(out).as_posix() for p in fwbuild.romfs_modules(out)]
        image = fwbuild.split_romfs(out) if args.romfs else b""
        entries = manifest(out)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        print(f"built {len(entries)} files ({size} bytes)"
              + (f" and a ROMFS image of {len(in_romfs)} modules ({len(image)} bytes)"
                 if args.romfs else ""))
        stale = stale_twins(entries)
        if args.romfs:  # the filesystem comes first on sys.path: nothing there may shadow /rom
            stale += [p for m in in_romfs for p in (m, m[:-4] + ".py")]
        # --virtual: a board already running this profile (and its watchdog), as at a bench.
        with board_port(args, profile=profile) as port:
            if enter_maintenance(port, args.timeout):
                print(f"{port}: in maintenance (watchdog stopped, outputs safe)")
            else:
                reach_repl(port, args.timeout)
                print(f"{port}: no copflow console; at the MicroPython REPL (Ctrl-C)")
            if args.romfs:
                try:
                    wrote = write_romfs(port, out, image)
                except CopflowError:
                    leave_maintenance(port)  # nothing was written: back to its firmware
                    raise
                print(f"{port}: ROMFS " + ("written and verified (sha256 on the board)"
                                           if wrote else "already holds this image"))
            elif romfs_state(port, 0)[0]:
                print(f"{port}: this board's MicroPython has a ROMFS partition: with "
                      "--romfs the modules run from flash and leave the heap "
                      "(docs/deploy.md#romfs)")
            moves = changed(port, entries)
            stage(port, out, moves)
            print(f"{port}: staged {len(moves)} changed files in /{STAGE} "
                  f"({len(entries) - len(moves)} up to date)")
            verify(port, moves)
            print(f"{port}: verified {len(moves)} files (sha256 on the board)")
            switch(port, moves, stale)
            print(f"{port}: switched {len(moves)} files into place"
                  + (" (main.py last)" if moves and moves[-1][0] in fwbuild.SOURCE_ONLY else ""))
            reboot_and_check(port, args.timeout)
    return 0
