# `copflow bench --memory`, on the host MicroPython with the firmware as
# deployed (.mpy): what one console request allocates, with no collection
# inside it. That is the free heap the virtual board needs above the live set
# (it collects only between slices), and what a real board's collector has to
# find. Frames stay small wherever a collection runs (docs/micropython-host.md).
import gc

gc.disable()
import json  # noqa: E402

from app import App  # noqa: E402

REQUESTS = (b"hello", b"status", b"get kp", b"param kp", b"set kp 0.45", b"mode manual",
            b"list", b"coeffs", b"coeffs preset default", b"alarms", b"mem", b"save",
            b"load", b"defaults", b"tel period 1000", b"nonsense", b"set kp nan",
            # one season of a set, as `copflow coeffs push` sends it (host_tools/coeffs_file.py)
            b'coeffs load {"name":"mine","cooling":{"a":[-80.1697,1.832,-0.01],"c":12.81,'
            b'"t_lo":20,"t_hi":32,"t_ref":27.6,"p_lo":75,"p_hi":110}}')
R = {}


class QuietHal:
    board_name = "bench"
    boot_error = ""
    watchdog_reset = False
    auto_gc = False

    def console_write(self, text):
        pass

    def poll(self, now_ms):
        pass

    def read(self, meas):
        pass

    def write(self, cmd):
        pass


def one(console, raw):
    gc.collect()
    before = gc.mem_alloc()
    answer = console.respond(raw)
    after = gc.mem_alloc()
    R[raw.decode()] = after - before
    return answer[:3]


def make():
    app = App(QuietHal())
    app.save_config()  # so that `load` has something to load
    return app


def run():
    app = make()
    for raw in REQUESTS:
        if one(app.console, raw) == "err" and not raw.startswith((b"nonsense", b"set kp nan")):
            R["failed"] = raw.decode()
    gc.collect()
    R["live"] = gc.mem_alloc()
    print("BENCH-RESULT " + json.dumps(R))


run()
