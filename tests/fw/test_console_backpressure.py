# Issue 16, "a console that cannot stop control": the output queue never waits
# for the host, telemetry is dropped and counted when it does not read, a
# response is never lost, an overlong line is dropped quickly, and a single
# Ctrl-C is line noise. Portable: runs under CPython and on the host MicroPython.
from console import BREAK_MS, Console
from fakeapp import FakeApp
from stdio_console import TX_CHUNK, TX_SIZE, StdioConsole


class Port(StdioConsole):
    """StdioConsole on a stand-in for the board's stdio: `reading` says whether the
    host takes output (a USB CDC port then reports POLLOUT); input is a byte queue."""

    def __init__(self):
        self.tx_init()
        self.inbuf = bytearray()
        self.pos = 0
        self.sent = bytearray()
        self.reading = True
        self.writes = 0

    def console_ready(self):
        return self.pos < len(self.inbuf)

    def console_read(self):
        # An index, not a shorter copy per byte: the host MicroPython runs these
        # tests with no collection at all.
        if self.pos >= len(self.inbuf):
            return -1
        self.pos += 1
        return self.inbuf[self.pos - 1]

    def unread(self):
        return bytes(self.inbuf[self.pos:])

    def _writable(self):
        return self.reading

    def _send(self, view):
        self.writes += 1
        self.sent += bytes(view)
        return len(view)

    def text(self):
        return bytes(self.sent).decode()


class BreakApp(FakeApp):
    def __init__(self):
        FakeApp.__init__(self)
        self.breaks = 0

    def interrupt(self):
        self.breaks += 1
        raise KeyboardInterrupt


def _console(app=None):
    port = Port()
    return Console(app or BreakApp(), port.console_write, port), port


def _slices(c, port, n, now=0, step=10):
    for i in range(n):
        c.service(port, now + i * step)
    return now + n * step


def _until_answered(c, port, limit=100):
    for i in range(limit):
        c.service(port, i * 10)
        if "\n" in port.text() and not port.console_ready() and not port._used:
            return i + 1
    raise AssertionError("no answer in %d slices: %r" % (limit, port.text()))


# ---- the output queue -------------------------------------------------------------

def test_queued_output_reaches_the_port_in_order_across_the_ring_end():
    port = Port()
    expect = ""
    for i in range(60):
        line = "line %d %s\n" % (i, "x" * (i % 37))
        assert port.console_write(line)
        expect += line
        for _ in range(i % 3):
            port.console_flush()
    while port._used:
        port.console_flush()
    assert port.text() == expect and port.tx_lost == 0


def test_a_slice_hands_the_port_at_most_one_chunk():
    port = Port()
    port.console_write("y" * 500 + "\n")
    port.console_flush()
    assert len(port.sent) == TX_CHUNK and port.writes == 1


def test_nothing_is_written_while_the_host_does_not_read():
    port = Port()
    port.reading = False
    port.console_write("ok\n")
    port.console_flush()
    assert port.writes == 0 and port.console_room() == TX_SIZE - 3
    port.reading = True
    port.console_flush()
    assert port.text() == "ok\n"


def test_a_line_that_does_not_fit_is_counted_not_sent_in_part():
    port = Port()
    port.reading = False
    assert port.console_write("z" * (TX_SIZE - 10))
    assert not port.console_write("0123456789A\n")
    assert port.tx_lost == 1
    port.reading = True
    port.console_drain()
    assert port.text() == "z" * (TX_SIZE - 10)


def test_telemetry_is_dropped_and_counted_while_the_host_does_not_read():
    c, port = _console()
    port.inbuf += b"tel period 100\ntel on\n"
    _slices(c, port, 5)
    port.reading = False
    for _ in range(50):
        c.tick(100)
        c.service(port, 0)
    assert c.dropped > 40  # a few fit the queue first
    assert port.tx_lost == 0  # nothing else was lost
    port.reading = True
    port.sent = bytearray()
    port.inbuf += b"status\n"
    for _ in range(30):
        c.service(port, 0)
    lines = port.text().split("\n")
    status = [x for x in lines if x.startswith("ok ")]
    assert len(status) == 1 and ("dropped=%d" % c.dropped) in status[0]


def test_a_request_waits_for_room_and_its_answer_is_never_lost():
    c, port = _console()
    port.reading = False
    port.console_write("q" * (TX_SIZE - 300))  # what the host has not read yet
    port.inbuf += b"get kp\n"
    _slices(c, port, 20)
    assert port.unread() == b"get kp\n"  # not read: no room for its answer
    port.reading = True
    _slices(c, port, 40)
    assert port.text() == "q" * (TX_SIZE - 300) + "ok kp=0.4\n"
    assert port.tx_lost == 0


def test_a_long_list_answer_goes_out_whole_through_a_small_queue():
    c, port = _console()
    port.inbuf += b"list\nget kp\n"
    for i in range(400):
        c.service(port, i * 10)
    lines = port.text().split("\n")
    n = int(lines[0].split("n=")[1])
    assert n > 30 and len(" ".join(lines)) > TX_SIZE  # bigger than the queue
    assert [x[:7] for x in lines[1:n + 1]] == ["!param "] * n
    assert lines[n + 1] == "ok kp=0.4"
    assert port.tx_lost == 0


def test_status_and_mem_show_skipped_ticks_and_dropped_lines():
    c, port = _console()
    c.dropped = 7
    port.inbuf += b"status\nmem\n"
    _slices(c, port, 30)
    lines = port.text().split("\n")
    status = dict(w.split("=") for w in lines[0].split()[1:])
    mem = dict(w.split("=") for w in lines[1].split()[1:])
    assert status["skipped"] == "0" and status["dropped"] == "7"
    assert mem["skipped"] == "0" and mem["dropped"] == "7" and mem["lost"] == "0"


# ---- overlong lines -----------------------------------------------------------------

def test_a_10_kb_line_is_dropped_within_a_few_slices():
    c, port = _console()
    port.inbuf += b"x" * 10000 + b"\nget kp\n"
    slices = 0
    while "ok kp" not in port.text():
        c.service(port, slices * 10)
        slices += 1
        assert slices < 60, slices  # 64 bytes a slice took 157 slices (1.6 s)
    assert port.text().startswith("err E_TOOLONG")


# ---- Ctrl-C -------------------------------------------------------------------------

def test_a_single_ctrl_c_in_a_line_is_noise():
    c, port = _console()
    port.inbuf += b"get k\x03p\n"
    _slices(c, port, 10)
    assert port.text().startswith("err E_SYNTAX")
    port.inbuf += b"get kp\n"
    _slices(c, port, 10, now=60000)
    assert port.text().endswith("ok kp=0.4\n")
    assert c.app.breaks == 0


def test_a_lone_ctrl_c_after_a_return_is_noise_when_nothing_follows():
    c, port = _console()
    port.inbuf += b"\r\x03"
    now = _slices(c, port, BREAK_MS // 10 + 5)
    assert c.app.breaks == 0
    port.inbuf += b"get kp\n"
    _slices(c, port, 5, now=now)
    assert port.text() == "ok kp=0.4\n"


def _breaks(c, port, now=0):
    try:
        _slices(c, port, 80, now=now)
    except KeyboardInterrupt:
        return True
    return False


def test_two_ctrl_c_within_the_break_time_hand_over_the_repl():
    c, port = _console()
    port.inbuf += b"get k\x03\x03"
    assert _breaks(c, port) and c.app.breaks == 1


def test_two_ctrl_c_further_apart_do_not():
    c, port = _console()
    c.feed(3, 1000)
    c.feed(3, 1000 + BREAK_MS + 10)
    assert c.app.breaks == 0


def test_mpremote_break_leaves_its_ctrl_a_for_the_repl():
    # mpremote >= 1.24 sends "\r\x03", then "\r\x01" (enter_raw_repl)
    c, port = _console()
    port.inbuf += b"\r\x03\r\x01"
    assert _breaks(c, port) and c.app.breaks == 1
    assert port.unread() == b"\r\x01"  # unread: the REPL's
    # older mpremote and pyboard.py: "\r\x03\x03"
    c, port = _console()
    port.inbuf += b"\r\x03\x03\r\x01"
    assert _breaks(c, port) and c.app.breaks == 1
