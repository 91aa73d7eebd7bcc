# Runs inside the host MicroPython: what the two Modbus RTU roles cost a 10 ms
# slice on the board side (docs/performance.md, "Modbus in the slice"). The
# UARTs are instant byte queues, so the figures are the firmware's own work:
# on a board the UART driver's ring buffers do the waiting. The slave answers
# through the app's register map (bms.py); its reply is written without
# waiting for the wire (rtu_line.Sender.send(wait=False)). The master is the
# VFD driver's, polled through a whole read transaction. No collection runs
# here (a roomy heap): on this build a frame active during one can be lost
# (docs/micropython-host.md).
import gc

gc.disable()
import json  # noqa: E402
import time  # noqa: E402

from app import App  # noqa: E402
from drivers.modbus_rtu import ModbusMaster, crc16  # noqa: E402
from drivers.modbus_slave import ModbusSlave  # noqa: E402

R = {"answered": 0, "together": 0}


class QueueUart:
    """Bytes in (rx) and out (tx); done at once."""

    def __init__(self):
        self.rx = bytearray()
        self.tx = bytearray()

    def init(self, **kw):
        pass

    def any(self):
        return len(self.rx)

    def readinto(self, buf, n):
        n = min(n, len(self.rx), len(buf))
        buf[:n] = self.rx[:n]
        self.rx = self.rx[n:]
        return n

    def write(self, data):
        self.tx += data
        return len(data)

    def flush(self):
        pass

    def txdone(self):
        return True


class Pin:
    def value(self, v=None):
        return 0


class QuietHal:
    board_name = "bench"

    def console_write(self, text):
        pass


def frame(body):
    crc = crc16(body)
    return bytes(body) + bytes((crc & 0xFF, crc >> 8))


def timed(fn, n):
    times = []
    for i in range(n):
        t0 = time.ticks_us()
        fn(i)
        times.append(time.ticks_diff(time.ticks_us(), t0))
    times.sort()
    return times[n // 2], times[-1]


def slave_bench(app, uart, slave, request, n):
    import bms

    def one(i):
        uart.rx += request
        now = 100 * i
        slave.poll(now)
        if slave.function:
            bms.answer(app, slave)
        slave.poll(now + 10)  # DE released
        if uart.tx[:2] == request[:2]:
            R["answered"] += 1  # a reply, not an exception
        uart.tx = bytearray()

    return timed(one, n)


def master_bench(master, uart, n):
    reply = frame(bytes((1, 3, 4, 0, 1, 0x17, 0x70)))

    def one(i):
        now = 1000 * i
        master.read_holding(1, 0, 2)
        master.poll(now + 10)  # the line was quiet: the request goes out
        uart.rx += reply
        master.poll(now + 20)  # the reply is checked
        if master.register(1) == 6000:
            R["answered"] += 1
        uart.tx = bytearray()

    return timed(one, n)


def together_bench(app, suart, slave, muart, master, n):
    """The worst slice with both roles: the BMS's HR write answered (a whole-config
    validation) and a VFD transaction completed in the same slice's polls."""
    import bms

    write = frame(bytes((1, 6, 0, 0, 0, 2)))
    reply = frame(bytes((1, 3, 4, 0, 1, 0x17, 0x70)))

    def one(i):
        now = 100000 + 1000 * i  # after the other benches' clocks
        master.read_holding(1, 0, 2)
        suart.rx += write
        slave.poll(now)
        if slave.function:
            bms.answer(app, slave)
        master.poll(now + 10)
        muart.rx += reply
        slave.poll(now + 20)
        master.poll(now + 20)
        if suart.tx[:2] == write[:2] and master.register(1) == 6000:
            R["together"] += 1
        suart.tx = bytearray()
        muart.tx = bytearray()

    return timed(one, n)


def run():
    app = App(QuietHal())
    uart = QueueUart()
    params = {"address": 1, "baud": 19200, "parity": "even", "stop_bits": 1}
    slave = ModbusSlave(uart, params, de=Pin())
    result = {}
    idle = timed(lambda i: slave.poll(10 * i), 200)
    result["modbus_slave_idle_poll_us"] = idle[0]
    read = frame(bytes((1, 4, 0, 0, 0, 7)))
    result["modbus_slave_read7_us"], result["modbus_slave_read7_max_us"] = \
        slave_bench(app, uart, slave, read, 50)
    write = frame(bytes((1, 6, 0, 0, 0, 2)))
    result["modbus_slave_write_us"], result["modbus_slave_write_max_us"] = \
        slave_bench(app, uart, slave, write, 5)
    muart = QueueUart()
    master = ModbusMaster(muart, Pin(), 19200, 11, 200, 2)
    result["modbus_master_read_us"], result["modbus_master_read_max_us"] = \
        master_bench(master, muart, 50)
    result["modbus_answered"] = R["answered"]  # of 105: every transaction completed
    result["modbus_together_us"], result["modbus_together_max_us"] = \
        together_bench(app, uart, slave, muart, master, 5)
    result["modbus_together_answered"] = R["together"]  # of 5
    print("BENCH-RESULT " + json.dumps(result))


run()
