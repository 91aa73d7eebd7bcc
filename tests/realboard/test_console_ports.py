"""Issue 16, defect 4 on the real-board path (BoardHal's StdioConsole on the port's machine
twin): what the ports' stdout does when the host does not read, and that the console's output
queue never lets it hold up the loop.

Two models of sys.stdout, from the MicroPython v1.27 port sources (docs/reliability.md#console):
- RP2 USB CDC (shared/tinyusb/mp_usbd_cdc.c:97-141): a 256-byte FIFO; a write larger than
  what the FIFO has free waits for the host up to MICROPY_HW_USB_CDC_TX_TIMEOUT, 500 ms
  (ports/rp2/mphalport.h:36); POLLOUT while the FIFO has room (mp_usbd_cdc.c:62-67).
- ESP32 UART0 (ports/esp32/uart.c:84-99): a 128-byte FIFO that shifts out at 115200 baud
  whatever the host does (the USB-UART bridge drops what the host does not take); a write
  that does not fit waits one 10 ms RTOS tick at a time; POLLOUT always
  (ports/esp32/mphalport.c:123-125)."""

import pytest

import app as app_mod
import stdio_console
from runtime_rig import Rig

REAL = {name: stdio_console.StdioConsole.__dict__[name]
        for name in ("console_write", "console_room", "console_flush", "console_drain")}


class CdcStdout:
    FIFO = 256
    TIMEOUT_MS = 500

    def __init__(self, clock):
        self.clock = clock
        self.reading = True
        self.fifo = 0
        self.waited_ms = 0
        self.received = bytearray()

    def writable(self):
        return self.reading or self.fifo < self.FIFO

    def write(self, data):
        data = bytes(data)
        if self.reading:
            self.received += data
            return len(data)
        n = min(len(data), self.FIFO - self.fifo)
        self.fifo += n
        if n < len(data):  # waits for the host, then gives up
            self.clock.advance_ms(self.TIMEOUT_MS)
            self.waited_ms += self.TIMEOUT_MS
        return len(data)  # stdio_write reports the whole size (sys_stdio_mphal.c:77-86)


class UartStdout:
    FIFO = 128
    BYTES_PER_MS = 11.52  # 115200 baud, 10 bits a byte

    def __init__(self, clock):
        self.clock = clock
        self.fifo = 0.0
        self.at_us = clock.us
        self.waited_ms = 0
        self.received = bytearray()

    def _drain(self):
        self.fifo = max(0.0, self.fifo - (self.clock.us - self.at_us) / 1000 * self.BYTES_PER_MS)
        self.at_us = self.clock.us

    def writable(self):
        return True

    def write(self, data):
        data = bytes(data)
        self._drain()
        left = len(data)
        while True:
            n = min(left, int(self.FIFO - self.fifo))
            self.fifo += n
            left -= n
            if not left:
                break
            self.clock.advance_ms(10)  # ulTaskNotifyTake(pdFALSE, 1): one RTOS tick
            self.waited_ms += 10
            self._drain()
        self.received += data
        return len(data)


class Poll:
    def __init__(self, port):
        self.port = port

    def ipoll(self, timeout_ms=0):
        return [(self.port, 4)] if self.port.writable() else []


def board_on(rig, model):
    """The rig's board with the real output queue in front of `model`."""
    for name, fn in REAL.items():
        rig.mp.setattr(stdio_console.StdioConsole, name, fn)
    app = rig.build()
    hal = app.hal
    hal.tx_init()
    port = model(rig.clock)
    hal._port = port
    hal._wpoll = Poll(port)
    app_mod._begin(app)  # the banner, the loop's start
    return app, port


@pytest.fixture
def rig(monkeypatch, tmp_path):
    return Rig(monkeypatch, tmp_path, "rp2")


def run_unread(rig, app, port, seconds):
    rig.inbuf += b"set period_ms 100\ntel period 100\ntel on\n"
    rig.run_ms(1000)
    port.reading = False
    before = (app.loop.periods, app.loop.skipped)
    rig.run_ms(seconds * 1000)
    return app.loop.periods - before[0], app.loop.skipped - before[1]


def test_rp2_cdc_host_not_reading_for_60_s_keeps_the_loop_on_time(rig):
    app, port = board_on(rig, CdcStdout)
    periods, skipped = run_unread(rig, app, port, 60)
    assert periods >= 5900
    # At most one write meets a FIFO with a little room left and waits its 500 ms.
    assert port.waited_ms <= CdcStdout.TIMEOUT_MS
    assert skipped * 100 <= periods  # >= 99 % of the ticks ran
    assert app.console.dropped > 500  # telemetry dropped, counted
    port.reading = True
    rig.inbuf += b"status\n"
    rig.run_ms(500)
    status = [x for x in port.received.decode(errors="replace").split("\n")
              if x.startswith("ok mode=")]
    assert status and f"dropped={app.console.dropped}" in status[-1]


def test_rp2_cdc_a_blocking_write_would_have_stopped_the_loop(rig):
    # The same run with every line written straight to the port, as stdio_console did
    # before the queue: each telemetry line waits 500 ms for a host that does not read.
    app, port = board_on(rig, CdcStdout)
    app.console.write = lambda text: port.write(text.encode())
    periods, skipped = run_unread(rig, app, port, 60)
    assert skipped * 2 > periods  # most periods never ran


def test_esp32_uart_output_never_waits_for_the_fifo(monkeypatch, tmp_path):
    rig = Rig(monkeypatch, tmp_path, "esp32")
    app, port = board_on(rig, UartStdout)
    rig.inbuf += b"set period_ms 100\ntel period 100\ntel on\nlist\n"
    rig.run_ms(5000)
    # 96 bytes a 10 ms slice stay under what the UART shifts out (115 bytes), so a
    # write always fits the FIFO: no RTOS tick waited, no period skipped.
    assert port.waited_ms == 0
    assert app.loop.skipped == 0
    text = port.received.decode()
    assert text.count("!param ") > 30 and text.count("!tel ") >= 40
