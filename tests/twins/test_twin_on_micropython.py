"""The twins are plain Python that the host MicroPython runs too (the virtual
board imports them as `twins`): the same script gives the same output on
CPython and on MicroPython v1.27 (WASI)."""

import subprocess
import sys

from host_tools.paths import PROJECT_ROOT

SCRIPT = r'''
from twins import make_machine, BoardReset
from twins.onewire import DS18B20
out = []
for port in ("esp32", "rp2"):
    m = make_machine(port)
    w = m.world
    pin = m.Pin(4, m.Pin.IN, m.Pin.PULL_UP)
    got = bytearray(1)  # a hard handler must not allocate

    def count(p):
        got[0] += 1

    try:
        pin.irq(handler=count, trigger=m.Pin.IRQ_FALLING, hard=True)
    except TypeError as e:
        out.append("irq TypeError %s" % e)
        pin.irq(handler=count, trigger=m.Pin.IRQ_FALLING)
    for _ in range(10):
        w.pulse(4)
    out.append("%s now=%d queued=%d dropped=%d" % (port, got[0], w.scheduled, w.sched_dropped))
    w.run_scheduled()
    out.append("after run %d" % got[0])
    adc = m.ADC(m.Pin(34 if port == "esp32" else 26))
    w.set_volts(34 if port == "esp32" else 26, 1.2)
    out.append("adc %d" % adc.read_u16())
    uid, tx, rx = (2, 17, 16) if port == "esp32" else (1, 4, 5)
    u = m.UART(uid, baudrate=19200, tx=m.Pin(tx), rx=m.Pin(rx))
    u.write(b"\x01\x03\x00\x00\x00\x01\x84\x0a")
    u.flush()
    out.append("uart t=%d tx=%s" % (w.clock.us, bytes(w.uart(uid).tx)))
    bus = w.onewire(13)
    bus.attach(DS18B20(serial=3, temp_c=12.5))
    ow = m.onewire.OneWire(m.Pin(13))
    out.append("ow %s %d" % (ow.reset(), len(ow.scan())))
    wdt = m.WDT(timeout=1000)
    w.clock.advance_ms(1001)
    out.append("wdt expired %s" % w.wdt.expired())
    try:
        m.reset()
    except BoardReset as e:
        out.append("reset cause %d" % e.cause)
for line in out:
    print(line)
'''


def run_cpython():
    env = {"PYTHONPATH": str(PROJECT_ROOT / "host_tools")}
    return subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, check=True).stdout


def run_micropython(tmp_path):
    (tmp_path / "t.py").write_text(SCRIPT)
    cmd = [sys.executable, "-m", "host_tools.micropython_process", "--flash", str(tmp_path),
           "--heap", "1M", "--mount", f"{PROJECT_ROOT / 'host_tools'}:/_host", "--", "-c",
           "import sys; sys.path.append('/_host'); exec(open('/t.py').read())"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc.stdout


def test_twins_run_the_same_on_micropython(tmp_path):
    expected = run_cpython()
    assert "irq TypeError extra keyword arguments given" in expected
    assert run_micropython(tmp_path) == expected


HARD_ALLOC = r'''
from twins import make_machine
m = make_machine("rp2")
w = m.world
log = []
m.Pin(5, m.Pin.IN, m.Pin.PULL_UP).irq(handler=lambda p: log.append([p]),
                                      trigger=m.Pin.IRQ_FALLING, hard=True)
w.pulse(5)
w.pulse(5)
print(len(log), w.log)
'''


def test_a_hard_handler_that_allocates_fails_on_micropython(tmp_path):
    """As on the board (shared/runtime/mpirq.c:84-85 locks the heap): MemoryError, the
    IRQ is disabled. CPython cannot lock its heap, so only the guest shows it."""
    (tmp_path / "t.py").write_text(HARD_ALLOC)
    cmd = [sys.executable, "-m", "host_tools.micropython_process", "--flash", str(tmp_path),
           "--heap", "1M", "--mount", f"{PROJECT_ROOT / 'host_tools'}:/_host", "--", "-c",
           "import sys; sys.path.append('/_host'); exec(open('/t.py').read())"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=PROJECT_ROOT).stdout
    assert out.startswith("0 ") and "heap is locked" in out
