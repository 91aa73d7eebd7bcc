"""The virtual bench board: the firmware on the host MicroPython, its console on a pty.

The guest runs on the pty's master side; the slave's path is the serial port
that pyserial, mpremote or a terminal opens, exactly as they would open
/dev/ttyACM0. The board process keeps the slave open, so the port survives
clients coming and going and the guest restarting. A soft reset (Ctrl-D, the
`reboot` command) ends the guest with a status that makes this process start a
fresh interpreter on the same flash folder and the same port.
"""

import os
import pty
import shutil
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty
from pathlib import Path

from host_tools.errors import CopflowError
from host_tools.micropython import process_command
from host_tools.mpycross import compile_source
from host_tools.paths import PROJECT_ROOT, cache_dir

GUEST_DIR = PROJECT_ROOT / "host_tools" / "guest"
TWINS_DIR = PROJECT_ROOT / "host_tools" / "twins"
SOFT_RESET_BOOT = 100
SOFT_RESET_RAW = 101
HARD_RESET = 102  # machine.reset() on the twin (vboot.py)
WDT_RESET = 103  # the watchdog bit (vwdt.py)
# Heap for the machine twins in the guest (their .mpy code, every GPIO's static
# Pin and state (twins.preload) and their other objects: about
# 45 KB on esp32, 40 KB on rp2), added to the board's heap; vboot.py holds what
# they leave of it, so the firmware sees the board's heap (docs/machine-twins.md).
TWIN_HEAP = 64 * 1024


class OutputBridge:
    """The guest's console output to the pty, as an ESP32 board's USB-UART bridge
    passes UART0 on (docs/reliability.md#console): the guest writes into a pipe
    that is always read, so its write never waits for the host. What the pty
    cannot take (the host is not reading and the pty's buffer is full) waits here
    up to LIMIT bytes; past that, bytes are dropped and counted, as a bridge chip
    drops them, but whole lines only (a line begun is finished, one that does not
    fit is dropped to its end), so the host never reads two lines run together.
    Without this the guest's write blocked once the pty was full, and its control
    loop with it (issue 16, defect 4)."""

    LIMIT = 64 * 1024

    def __init__(self, master: int):
        self.master = master
        self.read_fd, self.write_fd = os.pipe()
        self.dropped = 0
        self._buf = bytearray()
        self._cond = threading.Condition()
        self._closed = False
        self._skip = False  # dropping a line up to its end
        for target in (self._take, self._give):
            threading.Thread(target=target, daemon=True).start()

    def _take(self) -> None:
        while True:
            try:
                data = os.read(self.read_fd, 65536)
            except OSError:
                data = b""
            with self._cond:
                if not data:
                    self._closed = True
                    self._cond.notify()
                    return
                self._queue(data)
                self._cond.notify()

    def _queue(self, data: bytes) -> None:
        buf = self._buf
        start = 0
        while start < len(data):
            nl = data.find(b"\n", start)
            end = len(data) if nl < 0 else nl + 1
            piece = data[start:end]
            start = end
            if not self._skip:
                begins = not buf or buf.endswith(b"\n")
                if not begins or len(buf) + len(piece) <= self.LIMIT:
                    buf += piece  # fits, or finishes the line already queued
                    continue
            self.dropped += len(piece)
            self._skip = nl < 0

    def _give(self) -> None:
        while True:
            with self._cond:
                while not self._buf and not self._closed:
                    self._cond.wait()
                if not self._buf:
                    return
                data = bytes(self._buf[:4096])
                del self._buf[:len(data)]
            try:
                os.write(self.master, data)  # waits while the host does not read
            except OSError:
                return

    def close(self) -> None:
        """After the last guest is gone: the pipe ends, the threads follow."""
        for fd in (self.write_fd, self.read_fd):
            try:
                os.close(fd)
            except OSError:
                pass


def heap_bytes(text: str) -> int:
    units = {"K": 1024, "M": 1024 * 1024}
    t = text.strip().upper()
    return int(t[:-1]) * units[t[-1]] if t and t[-1] in units else int(t)


def twin_modules() -> Path:
    """The machine twins as .mpy, in a per-user cache keyed by their source: a
    folder holding the `twins` package (compiled once; mounted in the guest)."""
    import hashlib

    sources = sorted(TWINS_DIR.glob("*.py"))
    digest = hashlib.sha256()
    for src in sources:
        digest.update(src.name.encode() + src.read_bytes())
    out = cache_dir() / f"twins-{digest.hexdigest()[:16]}"
    pkg = out / "twins"
    if not (pkg / "__init__.mpy").exists():
        tmp = Path(f"{out}.{os.getpid()}.tmp") / "twins"
        tmp.mkdir(parents=True, exist_ok=True)
        for src in sources:
            mpy = compile_source(src.read_text(), f"twins/{src.name}")
            (tmp / (src.stem + ".mpy")).write_bytes(mpy)
        try:
            os.replace(tmp.parent, out)
        except OSError:  # another process finished first
            shutil.rmtree(tmp.parent, ignore_errors=True)
    return out


BUILD_STAMP = ".copflow_build"  # in the flash folder: the hash of what was built there


def firmware_hash(board: str) -> str:
    """A hash of everything a build depends on: every file under firmware/, the build
    code (host_tools/fwbuild.py) and the port."""
    import hashlib

    from host_tools import fwbuild

    digest = hashlib.sha256(board.encode())
    digest.update(Path(fwbuild.__file__).read_bytes())
    for src in sorted(fwbuild.FIRMWARE_DIR.rglob("*")):
        if src.is_file() and "__pycache__" not in src.parts:
            digest.update(src.relative_to(fwbuild.FIRMWARE_DIR).as_posix().encode() + b"\0")
            digest.update(src.read_bytes())
    return digest.hexdigest()[:32]


ROMFS_FILE = ".copflow_romfs"  # in the flash folder: the ROMFS partition's bytes
DEFAULT_ROMFS = "128K"  # ports/esp32/partitions-4MiB-romfs.csv: romfs, 0x20000


def install_firmware(flash: Path, board: str, profile: str | None = None,
                     hw: dict | None = None, rebuild: bool = True,
                     romfs: int | None = None) -> bool:
    """Put the firmware into a flash folder, as `copflow deploy` would on a board:
    modules as .mpy bytecode, main.py as source. With a board profile the firmware
    builds that board's drivers on its port's machine twin (docs/machine-twins.md).
    `romfs` (bytes): the board's MicroPython has a ROMFS partition that size, and
    the modules go there as `copflow deploy --romfs` puts them (docs/deploy.md#romfs).

    Builds into an empty folder, and again when firmware/ changed since this function
    built there (the hash in BUILD_STAMP); the saved config and other files on the
    flash stay. A folder whose firmware came from elsewhere (no stamp: a deploy, a
    test's own main.py) is left as it is, and so is any built one with rebuild=False.
    Returns whether it built."""
    from host_tools.fwbuild import build, write_board_files

    flash.mkdir(parents=True, exist_ok=True)
    stamp = flash / BUILD_STAMP
    digest = firmware_hash(board) + ("-romfs" if romfs else "")
    try:
        built = stamp.read_text().strip()
    except OSError:
        built = None
    stale = rebuild and built is not None and built != digest
    fresh = not (flash / "main.py").exists() or stale
    if fresh:
        build(flash, board)
        if romfs:
            romfs_into_partition(flash, romfs)
        stamp.write_text(digest + "\n")
    write_board_files(flash, board, profile, hw)
    return fresh


def romfs_into_partition(flash: Path, size: int) -> None:
    """The modules of a build in `flash` moved into its ROMFS partition (the
    rest of the partition erased); none left on the filesystem to shadow them."""
    from host_tools.fwbuild import split_romfs

    image = split_romfs(flash)
    if len(image) > size:
        raise CopflowError(f"the firmware's ROMFS image is {len(image)} bytes, more than "
                           f"the board's {size}-byte ROMFS partition")
    (flash / ROMFS_FILE).write_bytes(image + b"\xff" * (size - len(image)))


class VirtualBoard:
    def __init__(self, flash: Path, heap: str | None = None, board: str | None = None,
                 log=None, restart_delay_s: float = 1.0, profile: str | None = None,
                 hw: dict | None = None, rebuild: bool = True,
                 uarts: dict[str, int] | None = None, romfs: str | None = None):
        """`heap` and `board` (the MicroPython port) default to the profile's, or to
        110K and esp32 without one. `rebuild=False` keeps a flash folder's firmware
        even if firmware/ changed since it was built (install_firmware). `uarts`
        (name -> UART id, with a profile) wires those twin UARTs to pseudo-terminals
        of their own: `uart_ports[name]` is the path a Modbus tool opens, as it
        would open an RS-485 adapter on the real board's bus. `romfs` (a size like
        128K): the board's MicroPython has a ROMFS partition (twins/romfs.py), and
        the firmware it installs goes there."""
        self.flash = Path(flash).resolve()
        spec = {"virtual_heap": "110K", "port": "esp32"}
        if profile:
            from host_tools import hwconfig

            # A profile's heap is the board's plus what the host interpreter needs
            # because it cannot collect on demand (docs/drivers.md#memory).
            spec = hwconfig.load_profile(profile)
        self.heap = heap or spec["virtual_heap"]
        self.board = board or spec["port"]
        self.profile = profile
        self.hw = hw
        self.rebuild = rebuild
        self.romfs = heap_bytes(check_romfs(romfs)) if romfs else None
        self.log = log or sys.stderr
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        self.port = os.ttyname(self.slave)
        self.bridge = OutputBridge(self.master)
        self._uart_ids: dict[int, int] = {}  # UART id -> our end of its pty
        self._uart_fds: list[int] = []
        self.uart_ports: dict[str, str] = {}
        for name, uid in (uarts or {}).items():
            end, far = pty.openpty()
            tty.setraw(far)
            self._uart_ids[uid] = end
            self._uart_fds += [end, far]
            self.uart_ports[name] = os.ttyname(far)
        self._proc: subprocess.Popen | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.boots = 0
        self.restart_delay_s = restart_delay_s
        # What ended the last run, and the last that was not a soft reset: the
        # twin's reset_cause() at the next boot. The watchdog a soft reset keeps
        # running lives in a state file between interpreters (vwdt.py).
        self._event = "power"
        self._hw_event = "power"
        self._killed = False
        self._tmp = tempfile.mkdtemp(prefix="copflow-vboard-")
        self._wdt_state = os.path.join(self._tmp, "wdt")
        self._twins = twin_modules()
        self._lock_fd: int | None = None

    def start(self) -> "VirtualBoard":
        self._lock_flash()
        part = self.flash / ROMFS_FILE
        if self.romfs and (not part.exists() or part.stat().st_size != self.romfs):
            part.write_bytes(b"\xff" * self.romfs)  # erased flash: a partition of a new size
        install_firmware(self.flash, self.board, self.profile, self.hw, self.rebuild,
                         self.romfs)
        self._thread = threading.Thread(target=self._supervise, daemon=True)
        self._thread.start()
        return self

    def _lock_flash(self) -> None:
        """One board per flash folder: a second one would rewrite board.json and the
        saved config under the first (a lock on a file in the folder, released when
        this board stops or its process ends)."""
        import fcntl

        self.flash.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.flash / ".copflow_lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            self._close_pty()
            raise CopflowError(f"flash folder {self.flash} is in use by another virtual "
                               f"board (stop it, or give this one another --flash)") from None
        self._lock_fd = fd

    def _spawn(self, raw: bool) -> subprocess.Popen:
        args = ["/_vboard/vboot.py"] + (["raw"] if raw else [])
        heap = str(heap_bytes(self.heap) + (self.romfs or 0))  # the partition: flash
        extra = ["--mount", f"{GUEST_DIR}:/_vboard",
                 "--mount", f"{self._twins / 'twins'}:/_twins/twins"]
        profile = self._flash_profile()
        if profile or self.romfs:  # the twins' heap: the port's, or the ROMFS twin's
            heap = str(heap_bytes(heap) + TWIN_HEAP)
            args.append(f"twin_heap={TWIN_HEAP}")
        if self.romfs:
            args.append(f"romfs={self.romfs}")
        if profile:
            # vboot.py runs the firmware on the port's twin (a deploy may have
            # written the profile after this board started)
            extra += ["--wdt-state", self._wdt_state]
            args += [f"boot={self._event}", f"hw={self._hw_event}"]
            if self._uart_ids:
                args.append("uarts=" + ",".join(str(u) for u in self._uart_ids))
                for uid, fd in self._uart_ids.items():
                    extra += ["--uart", f"{uid}:{fd}"]
            from host_tools.vwdt import read_state

            wdt = read_state(self._wdt_state) if self._event == "soft" else None
            if wdt is not None:
                extra += ["--wdt", f"{wdt[0]}:{wdt[1]}"]
                args.append(f"wdt={wdt[0]}:{wdt[1]}")
        cmd = process_command(self.flash, heap, args)
        cmd[cmd.index("--"):cmd.index("--")] = extra
        self.boots += 1
        return subprocess.Popen(cmd, stdin=self.master, stdout=self.bridge.write_fd,
                                stderr=self.log, pass_fds=tuple(self._uart_ids.values()),
                                cwd=PROJECT_ROOT)

    def _flash_profile(self) -> bool:
        import json

        try:
            info = json.loads((self.flash / "board.json").read_text())
        except (OSError, ValueError):
            return False
        return isinstance(info, dict) and isinstance(info.get("profile"), str)

    def _supervise(self) -> None:
        raw = False
        while not self._stop.is_set():
            self._proc = self._spawn(raw)
            code = self._proc.wait()
            if self._stop.is_set():
                break
            raw = code == SOFT_RESET_RAW
            if self._killed:
                self._killed = False
                self._event = "power"
            else:
                self._event = {SOFT_RESET_BOOT: "soft", SOFT_RESET_RAW: "soft",
                               HARD_RESET: "reset", WDT_RESET: "wdt"}.get(code, "crash")
            if self._event != "soft":
                self._hw_event = self._event
            if self._event in ("crash", "power"):
                # Anything else is a crash or an exit: a board would reset; do the
                # same after a pause so a crash loop cannot spin the CPU.
                if hasattr(self.log, "write"):
                    print(f"virtual board: interpreter exited with status {code}; restarting",
                          file=self.log, flush=True)
                time.sleep(self.restart_delay_s)
                raw = False

    def kill(self) -> None:
        """Cut the power: the guest dies wherever it is (for power-cut tests), and the
        bytes it had not read yet die with it, as a board's receive buffer does."""
        proc = self._proc
        if proc and proc.poll() is None:
            self._killed = True  # a power cut: no watchdog survives it
            if os.path.exists(self._wdt_state):
                os.remove(self._wdt_state)
            proc.kill()
            proc.wait()
            try:
                termios.tcflush(self.master, termios.TCIFLUSH)
            except (OSError, termios.error):
                pass

    def stop(self) -> None:
        self._stop.set()
        self.kill()
        if self._thread:
            self._thread.join(timeout=5)
        self.bridge.close()
        self._close_pty()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flash folder's lock
            self._lock_fd = None

    def _close_pty(self) -> None:
        for fd in (self.master, self.slave, *self._uart_fds):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._tmp, ignore_errors=True)

    def boot(self, timeout_s: float = 30.0) -> "VirtualBoard":
        """Start the board and wait until its firmware announces `!boot`: the one
        way host tools and tests bring a virtual board up (`with
        VirtualBoard(...).boot() as board:`). A board that does not boot is
        stopped again, and the error says so."""
        from host_tools.link import Link

        self.start()
        try:
            with Link(self.port, timeout_s=10.0) as link:
                link.wait_for("!boot", timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def __enter__(self) -> "VirtualBoard":
        return self if self._thread is not None else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def check_heap(text: str) -> str:
    units = {"K": 1024, "M": 1024 * 1024}
    t = text.strip().upper()
    try:
        n = int(t[:-1]) * units[t[-1]] if t and t[-1] in units else int(t)
    except ValueError:
        raise CopflowError(f"--heap {text!r}: expected a size like 110K or 2M") from None
    if not 16 * 1024 <= n <= 512 * 1024 * 1024:
        raise CopflowError(f"--heap {text!r}: allowed 16K..512M")
    return text


def check_romfs(text: str) -> str:
    """A ROMFS partition size: whole 4 KB flash sectors (rp2_flash.c asserts it), up
    to 16M."""
    try:
        n = heap_bytes(text)
    except (ValueError, KeyError):
        raise CopflowError(f"--romfs {text!r}: expected a size like 128K") from None
    if n % 4096 or not 4096 <= n <= 16 * 1024 * 1024:
        raise CopflowError(f"--romfs {text!r}: a multiple of 4K, 4K..16M")
    return text
