# Pump VFD over Modbus RTU. apply() only stores the wish; poll() runs one
# transaction at a time on the master, picking the next from a small schedule:
#   1. a trip reset, when reset() asked for one;
#   2. the command (control word + speed reference in one function-16 write)
#      when it differs from what the drive last acknowledged, or every
#      refresh_ms so the drive's own communication-loss supervision stays fed;
#   3. the status blocks of the register map, every status_period_ms.
# A command change never waits behind a whole status cycle, but once a cycle
# has started it gets one read in between, so a fast-changing output cannot
# starve the read-backs.
#
# poll() keeps read-backs as raw register values (small ints, no allocation);
# the float properties convert them when asked.
from core import alarms
from core.compat import as_number, const
from core.config import ConfigError
from core.ticks import ticks_add, ticks_diff
from drivers import modbus_rtu as mb
from drivers import vfd_maps

PARITIES = ("even", "none", "odd")
BAUDS = mb.BAUDS

PARAMS = (
    ("address", "", 1, 247, 1, "Modbus address of the drive"),
    ("baud", "baud", 1200, 115200, 19200, "serial speed: 1200, 2400 ... 57600, 115200"),
    ("parity", PARITIES, 0, 0, "even", "character parity (Modbus default: even)"),
    ("stop_bits", "", 1, 2, 1, "stop bits (the Modbus spec wants 2 without parity)"),
    ("map", vfd_maps.NAMES, 0, 0, "generic", "register map of the drive family"),
    ("timeout_ms", "ms", 10, 2000, 200, "reply timeout on top of the frames' wire time"),
    ("retries", "", 0, 5, 2, "re-sends after a timeout or CRC error before VFD_LINK"),
    ("status_period_ms", "ms", 100, 60000, 1000, "how often status, frequency, power are read"),
    ("refresh_ms", "ms", 100, 60000, 1000, "the command is rewritten at least this often"),
    ("full_scale_hz", "Hz", 1.0, 600.0, 50.0,
     "output frequency at 100 % speed (maps without a speed read-back)"),
)

_J_NONE = const(-1)
_J_CMD = const(0)
_J_RESET = const(1)
_J_READ = const(2)  # + block index

class Vfd:
    """VFD actuator: apply(output_pct, run), poll(now_ms), fault, position_pct,
    and the read-backs freq_hz, power_kw, trip_code, running."""

    def __init__(self, uart, params: dict, de=None, sleep_us=None):
        if params["baud"] not in BAUDS:
            raise ConfigError("baud", "%r is not a standard rate (%s)"
                              % (params["baud"], ", ".join(str(b) for b in BAUDS)))
        m = vfd_maps.get(params["map"])
        self._check_map(m)
        parity = params["parity"]
        uart.init(baudrate=params["baud"], bits=8, parity=mb.PARITY[parity],
                  stop=params["stop_bits"])
        bits = mb.char_bits(parity != "none", params["stop_bits"])
        self.master = mb.ModbusMaster(uart, de, params["baud"], bits, params["timeout_ms"],
                                      params["retries"], sleep_us)
        self._addr = params["address"]
        self._status_period = params["status_period_ms"]
        self._refresh = params["refresh_ms"]
        self._full_scale_hz = params["full_scale_hz"]
        self.map_name = m["name"]

        self._ctrl = min(m["control"], m["reference"])
        self._cw_reg = m["control"]
        self._cw_first = m["control"] < m["reference"]
        self._ref_full = m["ref_full"]
        self._cw_run = m["cw_run"]
        self._cw_stop = m["cw_stop"]
        self._cw_reset = m["cw_reset"]
        self._tripped_mask = m["tripped"]
        self._running_mask = m["running"]
        self._inhibit_mask = m["inhibited"]
        self._freq_per_hz = m["freq_per_hz"]
        self._power_per_kw = m["power_per_kw"]

        reads = m["reads"]
        self._blk_start = [b[0] for b in reads]
        self._blk_count = [b[1] for b in reads]
        self._blk_base = []
        total = 0
        for b in reads:
            self._blk_base.append(total)
            total += b[1]
        self._blk_valid = [False] * len(reads)
        self._regs = [0] * total
        # Each field as (index into _regs, its block), or -1 when the map has none.
        self._i_status, self._b_status = self._locate(m, "status")
        self._i_actual, self._b_actual = self._locate(m, "actual")
        self._i_freq, self._b_freq = self._locate(m, "freq")
        self._i_power, self._b_power = self._locate(m, "power")
        self._i_trip, self._b_trip = self._locate(m, "trip_code")

        self._wvals = [0, 0]
        self._want_ref = 0
        self._run = False
        self._tx_cw = 0
        self._tx_ref = 0
        self._wr_cw = 0
        self._wr_ref = 0
        self._wr_valid = False
        self._last_write = 0
        # Drives with a switch-on-inhibited state start in it after power-up
        # and after a trip reset, and accept run only after a stop word.
        self._stop_first = self._inhibit_mask != 0
        self._reset_req = False
        self._job = _J_NONE
        self._last_job = _J_NONE
        self._read_idx = -1
        self._status_started = False
        self._next_status = 0
        self._rejects = 0  # bit per job slot whose last transaction was rejected
        self._tripped = False
        self.last_exception = 0
        self.fault = 0

    @staticmethod
    def _check_map(m):
        if abs(m["control"] - m["reference"]) != 1:
            raise ConfigError("map", "%s: control and reference registers must be adjacent"
                              % m["name"])
        if m["status"] is None:
            raise ConfigError("map", "%s: a status register is required" % m["name"])

    def _locate(self, m, key):
        addr = m[key]
        if addr is None:
            return -1, -1
        for b in range(len(self._blk_start)):
            offset = addr - self._blk_start[b]
            if 0 <= offset < self._blk_count[b]:
                return self._blk_base[b] + offset, b
        raise ConfigError("map", "%s: register %s=%d is in no read block"
                          % (m["name"], key, addr))

    # ---- actuator contract --------------------------------------------------
    def apply(self, output_pct: float, run: bool):
        pct = as_number(output_pct)
        if pct is None:
            # No trustworthy wish: stop rather than guess a speed.
            pct = 0.0
            run = False
        if pct < 0.0:
            pct = 0.0
        elif pct > 100.0:
            pct = 100.0
        self._want_ref = int(pct * self._ref_full / 100.0 + 0.5)
        self._run = bool(run)

    def safe(self):
        """Fail-safe: send the stop word with a zero reference at once (no reply
        awaited: the loop is going away) and leave RS-485 DE low, whatever
        transaction was running."""
        self._run = False
        self._want_ref = 0
        w = self._wvals
        if self._cw_first:
            w[0] = self._cw_stop
            w[1] = 0
        else:
            w[0] = 0
            w[1] = self._cw_stop
        self._job = _J_NONE
        self._wr_valid = False
        self.master.send_now(self._addr, mb.WRITE_MULTIPLE, self._ctrl, 2, w)

    def reset(self):
        """Ask for one trip reset (the control word's reset edge). Never
        automatic: whether a tripped pump may restart is the supervisor's call."""
        if self._cw_reset is not None:
            self._reset_req = True

    def poll(self, now_ms: int):
        master = self.master
        state = master.poll(now_ms)
        if state == mb.SENDING or state == mb.WAITING:
            return
        if self._job != _J_NONE:
            self._finish(state, now_ms)
        self._start_next(now_ms)

    # ---- read-backs ---------------------------------------------------------
    def _field(self, i: int, b: int):
        if i < 0 or not self._blk_valid[b]:
            return None
        v = self._regs[i]
        return v - 0x10000 if v & 0x8000 else v

    @property
    def freq_hz(self):
        v = self._field(self._i_freq, self._b_freq)
        return None if v is None else v / self._freq_per_hz

    @property
    def power_kw(self):
        v = self._field(self._i_power, self._b_power)
        return None if v is None else v / self._power_per_kw

    @property
    def position_pct(self):
        if self._i_actual >= 0:
            v = self._field(self._i_actual, self._b_actual)
            return None if v is None else v * 100.0 / self._ref_full
        f = self.freq_hz
        return None if f is None else f * 100.0 / self._full_scale_hz

    @property
    def running(self):
        if not self._blk_valid[self._b_status]:
            return None
        return bool(self._regs[self._i_status] & self._running_mask)

    @property
    def trip_code(self):
        """The drive's fault code while it is tripped, 0 when it is not, None
        when unknown (no status yet, link down, or the map has no code)."""
        if not self._blk_valid[self._b_status]:
            return None
        if not self._tripped:
            return 0
        if self._i_trip < 0 or not self._blk_valid[self._b_trip]:
            return None
        return self._regs[self._i_trip]

    # ---- schedule -----------------------------------------------------------
    def _want_cw(self) -> int:
        if self._run and not self._stop_first:
            return self._cw_run
        return self._cw_stop

    def _cmd_due(self, now_ms: int) -> bool:
        if not self._wr_valid:
            return True
        if self._want_cw() != self._wr_cw or self._want_ref != self._wr_ref:
            return True
        return ticks_diff(now_ms, self._last_write) >= self._refresh

    def _start_next(self, now_ms: int):
        master = self.master
        if self._reset_req:
            master.write_single(self._addr, self._cw_reg, self._cw_reset)
            self._job = _J_RESET
        elif self._cmd_due(now_ms) and not (self._read_idx >= 0 and self._last_job == _J_CMD):
            cw = self._want_cw()
            ref = self._want_ref
            w = self._wvals
            if self._cw_first:
                w[0] = cw
                w[1] = ref
            else:
                w[0] = ref
                w[1] = cw
            self._tx_cw = cw
            self._tx_ref = ref
            master.write_multiple(self._addr, self._ctrl, w, 2)
            self._job = _J_CMD
        else:
            if self._read_idx < 0 and (not self._status_started
                                       or ticks_diff(now_ms, self._next_status) >= 0):
                self._status_started = True
                self._next_status = ticks_add(now_ms, self._status_period)
                self._read_idx = 0
            if self._read_idx < 0:
                self._job = _J_NONE
                return
            b = self._read_idx
            master.read_holding(self._addr, self._blk_start[b], self._blk_count[b])
            self._job = _J_READ + b
        self._last_job = self._job

    def _finish(self, state: int, now_ms: int):
        job = self._job
        self._job = _J_NONE
        if state == mb.OK or state == mb.EXCEPTION:
            self.fault &= ~alarms.VFD_LINK
            if state == mb.OK:
                self._rejects &= ~(1 << job)
            else:
                self._rejects |= 1 << job
                self.last_exception = self.master.exception_code
            if job == _J_CMD:
                # A rejected command counts as written too: it is retried at
                # the refresh period, not hammered every slice.
                self._wr_cw = self._tx_cw
                self._wr_ref = self._tx_ref
                self._wr_valid = True
                self._last_write = now_ms
                if state == mb.OK and self._tx_cw == self._cw_stop:
                    self._stop_first = False
            elif job == _J_RESET:
                self._reset_req = False
                if state == mb.OK:
                    self._stop_first = self._inhibit_mask != 0
                    self._wr_valid = False
            else:
                self._read_done(job - _J_READ, state == mb.OK)
        else:
            self.fault |= alarms.VFD_LINK
            self._wr_valid = False
            self._read_idx = -1
            for b in range(len(self._blk_valid)):
                self._blk_valid[b] = False
        if self._rejects:
            self.fault |= alarms.VFD_REJECT
        else:
            self.fault &= ~alarms.VFD_REJECT

    def _read_done(self, b: int, ok: bool):
        self._blk_valid[b] = ok
        if ok:
            master = self.master
            base = self._blk_base[b]
            for i in range(self._blk_count[b]):
                self._regs[base + i] = master.register(i)
            if b == self._b_status:
                sw = self._regs[self._i_status]
                self._tripped = (sw & self._tripped_mask) != 0
                if self._tripped:
                    self.fault |= alarms.VFD_TRIP
                else:
                    self.fault &= ~alarms.VFD_TRIP
                if sw & self._inhibit_mask and self._run:
                    self._stop_first = True
        self._read_idx = b + 1 if b + 1 < len(self._blk_start) else -1
