# Runs inside the host MicroPython: the cost of console work on the board side.
import gc

gc.disable()
import json  # noqa: E402
import time  # noqa: E402

from app import App  # noqa: E402


class QuietHal:
    board_name = "bench"

    def console_write(self, text):
        pass


def timed(console, raw, n):
    times = []
    for _ in range(n):
        t0 = time.ticks_us()
        console.respond(raw)
        times.append(time.ticks_diff(time.ticks_us(), t0))
    times.sort()
    return times[n // 2]


def feed_cost(console, n):
    t0 = time.ticks_us()
    for _ in range(n):
        console.reader.feed(97)
        if console.reader.n > 100:
            console.reader.n = 0
    return time.ticks_diff(time.ticks_us(), t0) / n


def run():
    app = App(QuietHal())
    c = app.console
    gc.collect()
    result = {
        "console_get_us_micropython": timed(c, b"get kp", 50),
        "console_status_us_micropython": timed(c, b"status", 50),
        "console_feed_byte_us_micropython": feed_cost(c, 2000),
    }
    gc.collect()
    result["console_set_us_micropython"] = timed(c, b"set kp 0.5", 3)
    print("BENCH-RESULT " + json.dumps(result))


run()
