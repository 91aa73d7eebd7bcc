"""Modbus peers for the VFD driver tests.

- `DriveModel`: what a drive does with its control word and reference (run,
  ramp-less speed, ABB-style switch-on inhibit, trip and reset), written in
  terms of a register map so one model serves every map.
- `FakeSlave`: a minimal RTU slave at the far end of a twin UART (world.uart(id).peer);
  it frames its replies with pymodbus's CRC, not ours.
- Pseudo-terminal plumbing for a real pymodbus RTU server: `PtyPair`, a
  `LineProxy` that plays the RS-485 cable between two pty pairs (and can cut
  the line or corrupt replies), `PymodbusPeer` (ModbusSerialServer in a
  background thread) and `PtyPeer` (a twin UART's far end on a pty).
"""

from __future__ import annotations

import asyncio
import os
import select
import threading
import time
import tty

import serial
from pymodbus.framer import FramerType
from pymodbus.framer.rtu import FramerRTU
from pymodbus.server import ModbusSerialServer
from pymodbus.simulator import DataType, SimData, SimDevice


def rtu_crc(frame: bytes) -> bytes:
    """The two CRC bytes pymodbus would append (low byte first on the wire)."""
    return FramerRTU.compute_CRC(frame).to_bytes(2, "big")


class DriveModel:
    """A drive behind a register map (a dict from drivers.vfd_maps)."""

    def __init__(self, regmap: dict, full_hz: float = 50.0, rated_kw: float = 2.2):
        self.m = regmap
        self.full_hz = full_hz
        self.rated_kw = rated_kw
        self.cw = 0
        self.ref = 0
        self.tripped = False
        self.code = 0
        self.inhibited = regmap["inhibited"] != 0
        self.writes: list[tuple[int, list[int]]] = []

    @property
    def running(self) -> bool:
        return self.cw == self.m["cw_run"] and not self.tripped and not self.inhibited

    def trip(self, code: int):
        self.tripped = True
        self.code = code

    def on_write(self, address: int, values: list[int]):
        self.writes.append((address, list(values)))
        for i, v in enumerate(values):
            if address + i == self.m["control"]:
                self._control(v)
            elif address + i == self.m["reference"]:
                self.ref = v

    def _control(self, cw: int):
        rising_reset = cw & 0x80 and not self.cw & 0x80
        if rising_reset and self.m["cw_reset"] is not None and self.tripped:
            self.tripped = False
            self.code = 0
            self.inhibited = self.m["inhibited"] != 0
        elif self.inhibited and not cw & 1:
            self.inhibited = False
        self.cw = cw

    def fill(self, put):
        """Write the status registers through put(address, value)."""
        m = self.m
        sw = 0
        if self.inhibited:
            sw |= m["inhibited"]
        if self.tripped:
            sw |= m["tripped"]
        if self.running:
            sw |= m["running"]
        put(m["status"], sw)
        speed = self.ref if self.running else 0
        fraction = speed / m["ref_full"]
        if m["actual"] is not None:
            put(m["actual"], speed)
        if m["freq"] is not None:
            put(m["freq"], round(fraction * self.full_hz * m["freq_per_hz"]))
        if m["power"] is not None:
            put(m["power"], round(fraction**3 * self.rated_kw * m["power_per_kw"]))
        if m["trip_code"] is not None:
            put(m["trip_code"], self.code)


class FakeSlave:
    """Holding registers in a dict; answers the requests a twin UART sends it.

    silent: answer nothing; corrupt: number of coming replies to send with a
    bad CRC; model: a DriveModel updated on writes and asked before reads.
    """

    def __init__(self, address: int = 1, registers: dict[int, int] | None = None,
                 model: DriveModel | None = None):
        self.address = address
        self.regs: dict[int, int] = dict(registers or {})
        self.model = model
        self.silent = False
        self.corrupt = 0
        self.requests: list[bytes] = []

    def respond(self, request: bytes) -> bytes:
        self.requests.append(bytes(request))
        if self.silent or len(request) < 4 or rtu_crc(request[:-2]) != request[-2:]:
            return b""
        if request[0] != self.address:
            return b""
        pdu = self._pdu(request)
        frame = bytes([self.address]) + pdu
        frame += rtu_crc(frame)
        if self.corrupt:
            self.corrupt -= 1
            frame = frame[:-1] + bytes([frame[-1] ^ 0x5A])
        return frame

    def _pdu(self, req: bytes) -> bytes:
        fc = req[1]
        addr = int.from_bytes(req[2:4], "big")
        if self.model is not None:
            self.model.fill(self._put)
        if fc == 3:
            count = int.from_bytes(req[4:6], "big")
            if any(a not in self.regs for a in range(addr, addr + count)):
                return bytes([fc | 0x80, 2])
            data = b"".join(self.regs[a].to_bytes(2, "big") for a in range(addr, addr + count))
            return bytes([fc, len(data)]) + data
        if fc == 6:
            values = [int.from_bytes(req[4:6], "big")]
        elif fc == 16:
            count = int.from_bytes(req[4:6], "big")
            values = [int.from_bytes(req[7 + 2 * i:9 + 2 * i], "big") for i in range(count)]
        else:
            return bytes([fc | 0x80, 1])
        if any(a not in self.regs for a in range(addr, addr + len(values))):
            return bytes([fc | 0x80, 2])
        for i, v in enumerate(values):
            self.regs[addr + i] = v
        if self.model is not None:
            self.model.on_write(addr, values)
            self.model.fill(self._put)
        return req[1:6]

    def _put(self, address: int, value: int):
        if address in self.regs:
            self.regs[address] = value & 0xFFFF


# ---- pseudo-terminals and a real pymodbus server ----------------------------


class PtyPair:
    """One pseudo-terminal: `fd` is the controlling side, `name` the port a
    serial library opens."""

    def __init__(self):
        self.fd, self._slave_fd = os.openpty()
        tty.setraw(self._slave_fd)
        self.name = os.ttyname(self._slave_fd)

    def close(self):
        for fd in (self.fd, self._slave_fd):
            try:
                os.close(fd)
            except OSError:
                pass


class LineProxy:
    """The cable between the master's pty and the server's pty, in a thread.

    cut: drop traffic both ways (unplugged cable); corrupt_replies: number of
    coming replies whose first chunk gets its last byte flipped.
    """

    def __init__(self, master_side: PtyPair, server_side: PtyPair):
        self.a = master_side.fd
        self.b = server_side.fd
        self.cut = False
        self.corrupt_replies = 0
        self.requests = 0
        self._reply_pending = False
        self._wake_r, self._wake_w = os.pipe()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="modbus-line", daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            ready, _, _ = select.select([self.a, self.b, self._wake_r], [], [], 0.2)
            if self.a in ready:
                data = self._read(self.a)
                if data and not self.cut:
                    self.requests += 1
                    self._reply_pending = True
                    os.write(self.b, data)
            if self.b in ready:
                data = self._read(self.b)
                if data and not self.cut:
                    if self._reply_pending and self.corrupt_replies > 0:
                        self.corrupt_replies -= 1
                        data = data[:-1] + bytes([data[-1] ^ 0xFF])
                    self._reply_pending = False
                    os.write(self.a, data)

    @staticmethod
    def _read(fd: int) -> bytes:
        try:
            return os.read(fd, 4096)
        except OSError:  # the other end went away while shutting down
            return b""

    def close(self):
        self._stop = True
        os.write(self._wake_w, b"x")
        self._thread.join(5)
        os.close(self._wake_r)
        os.close(self._wake_w)


class PymodbusPeer:
    """A pymodbus RTU server on `port` in a background thread, holding
    registers at `blocks` [(first, count), ...] for `device_id`; `model`
    (a DriveModel) sees every write and fills the status registers."""

    def __init__(self, port: str, blocks, device_id: int = 1, model: DriveModel | None = None,
                 baudrate: int = 115200, parity: str = "N"):
        self.port = port
        self.model = model
        self.device_id = device_id
        self.baudrate = baudrate
        self.parity = parity
        self.simdata = [SimData(first, count=count, values=0, datatype=DataType.REGISTERS)
                        for first, count in blocks]
        self._regs: list[int] | None = None
        self._start = 0
        self._loop = asyncio.new_event_loop()
        self._server: ModbusSerialServer | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pymodbus-peer", daemon=True)

    async def _action(self, function_code, start_address, address, count, registers,
                      set_values):
        self._regs = registers
        self._start = start_address
        if self.model is not None:
            if set_values:
                self.model.on_write(address, list(set_values))
            self.model.fill(self._put)
        return None

    def _only_ours(self, sending: bool, data: bytes) -> bytes:
        # A drive stays silent for other addresses. pymodbus 3.16's SimCore
        # answers them with exception 4 instead (its device lookup raises
        # KeyError, not NoSuchIdException), so such requests are dropped on
        # the way in. A pty hands over each request in one piece.
        if not sending and data and data[0] != self.device_id:
            return b""
        return data

    def _put(self, address: int, value: int):
        regs = self._regs
        i = address - self._start
        if regs is not None and 0 <= i < len(regs):
            regs[i] = value & 0xFFFF

    def register(self, address: int) -> int:
        """A holding register as the server holds it (after at least one request)."""
        assert self._regs is not None, "the server has not seen a request yet"
        return self._regs[address - self._start]

    def _run(self):
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to the test thread by start()
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _main(self):
        device = SimDevice(self.device_id, simdata=self.simdata, action=self._action)
        self._server = ModbusSerialServer(device, framer=FramerType.RTU, port=self.port,
                                          baudrate=self.baudrate, parity=self.parity,
                                          ignore_missing_devices=True,
                                          trace_packet=self._only_ours)
        await self._server.serve_forever(background=True)
        self._ready.set()
        await self._server.serving

    def start(self):
        self._thread.start()
        if not self._ready.wait(10) or self._error is not None:
            raise RuntimeError(f"pymodbus server did not start: {self._error!r}")
        return self

    def stop(self):
        if self._server is not None and self._thread.is_alive():
            fut = asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop)
            fut.result(5)
        self._thread.join(5)


class PtyPeer:
    """The far end of a twin board's UART wired to a pseudo-terminal (set it as
    world.uart(id).peer): each frame the board sends goes out on the pty, and
    what comes back before the line falls silent is the answer, which reaches
    the board right after its frame at the line's baud rate (the twin paces it).
    Nothing back within `first_byte_s` of host time: no answer."""

    def __init__(self, port: str, first_byte_s: float = 0.4, silence_s: float = 0.03):
        self.ser = serial.serial_for_url(port, baudrate=115200, timeout=0)
        self.first_byte_s = first_byte_s
        self.silence_s = silence_s
        self.frames = 0

    def respond(self, frame: bytes) -> bytes:
        self.frames += 1
        self.ser.reset_input_buffer()  # a late answer to an earlier frame is gone
        self.ser.write(frame)
        self.ser.flush()
        out = bytearray()
        deadline = time.monotonic() + self.first_byte_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return bytes(out)
            ready, _, _ = select.select([self.ser.fileno()], [], [], left)
            if ready:
                out += self.ser.read(self.ser.in_waiting or 1)
                deadline = time.monotonic() + self.silence_s

    def close(self):
        self.ser.close()
