"""The machine twins behave as MicroPython v1.27.0's ESP32 and RP2 ports do
(docs/machine-twins.md cites the port source for each)."""

import pytest

from host_tools.twins import PORTS, BoardReset, make_machine
from host_tools.twins.esp32_machine import repl_write_cost_us

IN_PIN = {"esp32": 4, "rp2": 4}


@pytest.fixture(params=PORTS)
def m(request):
    return make_machine(request.param)


# ---- arguments ------------------------------------------------------------------
def test_unknown_keyword_is_a_type_error(m):
    with pytest.raises(TypeError, match="extra keyword arguments given"):
        m.Pin(4, m.Pin.IN, bogus=1)
    with pytest.raises(TypeError, match="extra keyword arguments given"):
        m.UART(1, baudrate=9600, bogus=1)
    with pytest.raises(TypeError, match="extra keyword arguments given"):
        m.WDT(timeout=1000, bogus=1)


def test_value_is_keyword_only(m):
    with pytest.raises(TypeError, match="extra positional arguments given"):
        m.Pin(4, m.Pin.OUT, None, 1)


def test_esp32_pin_irq_has_no_hard_keyword():
    m = make_machine("esp32")
    pin = m.Pin(4, m.Pin.IN, m.Pin.PULL_UP)
    with pytest.raises(TypeError, match="extra keyword arguments given"):
        pin.irq(handler=lambda p: None, trigger=m.Pin.IRQ_FALLING, hard=True)


def test_rp2_pin_irq_takes_hard():
    m = make_machine("rp2")
    pin = m.Pin(4, m.Pin.IN, m.Pin.PULL_UP)
    pin.irq(handler=lambda p: None, trigger=m.Pin.IRQ_FALLING, hard=True)


@pytest.mark.parametrize("port,bad", [("esp32", 24), ("esp32", 28), ("esp32", 40),
                                      ("esp32", -1), ("rp2", 30), ("rp2", -1)])
def test_pins_that_do_not_exist(port, bad):
    m = make_machine(port)
    with pytest.raises(ValueError, match="invalid pin"):
        m.Pin(bad)


@pytest.mark.parametrize("pin", [34, 35, 36, 39])
def test_esp32_input_only_pins_refuse_output(pin):
    m = make_machine("esp32")
    with pytest.raises(ValueError, match="pin can only be input"):
        m.Pin(pin, m.Pin.OUT)
    m.Pin(pin, m.Pin.IN)


def test_esp32_pull_up_is_ignored_on_34_to_39():
    m = make_machine("esp32")
    w = m.world
    floating = m.Pin(35, m.Pin.IN, m.Pin.PULL_UP)
    pulled = m.Pin(25, m.Pin.IN, m.Pin.PULL_UP)
    assert w.pull(35) is None and floating.value() == 0
    assert w.pull(25) == "up" and pulled.value() == 1


def test_rp2_init_without_pull_clears_the_pull():
    m = make_machine("rp2")
    m.Pin(5, m.Pin.IN, m.Pin.PULL_UP)
    assert m.world.pull(5) == "up"
    m.Pin(5, m.Pin.IN)
    assert m.world.pull(5) is None


def test_esp32_init_without_pull_keeps_the_pull():
    m = make_machine("esp32")
    m.Pin(5, m.Pin.IN, m.Pin.PULL_UP)
    m.Pin(5, m.Pin.IN)
    assert m.world.pull(5) == "up"


def test_constants_are_the_ports(m):
    if m.port == "esp32":
        assert (m.Pin.IN, m.Pin.OUT, m.Pin.OPEN_DRAIN) == (1, 3, 7)
        assert (m.Pin.PULL_UP, m.Pin.PULL_DOWN, m.Pin.IRQ_RISING, m.Pin.IRQ_FALLING) == (2, 1, 1, 2)
        assert (m.PWRON_RESET, m.HARD_RESET, m.WDT_RESET, m.SOFT_RESET) == (1, 2, 3, 5)
    else:
        assert (m.Pin.IN, m.Pin.OUT, m.Pin.OPEN_DRAIN) == (0, 1, 2)
        assert (m.Pin.PULL_UP, m.Pin.PULL_DOWN, m.Pin.IRQ_RISING, m.Pin.IRQ_FALLING) == (1, 2, 8, 4)
        assert (m.PWRON_RESET, m.WDT_RESET) == (1, 3)
        for name in ("HARD_RESET", "SOFT_RESET", "DEEPSLEEP_RESET"):
            assert not hasattr(m, name)


PUBLIC_PIN = {
    "esp32": {"init", "value", "on", "off", "toggle", "irq"},
    "rp2": {"init", "value", "on", "off", "low", "high", "toggle", "irq"},
}


def test_machine_objects_have_no_test_hooks(m):
    def methods(cls):
        return {n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n))}

    assert methods(m.Pin) == PUBLIC_PIN[m.port]
    assert methods(m.WDT) == {"feed"}
    assert methods(m.UART) == {"init", "deinit", "any", "read", "readinto", "readline",
                               "write", "flush", "txdone", "sendbreak"}
    adc = {"esp32": {"init", "read", "read_u16", "read_uv", "atten", "width", "deinit"},
           "rp2": {"read_u16"}}
    assert methods(m.ADC) == adc[m.port]


# ---- IRQs and the scheduler --------------------------------------------------------
def test_esp32_pin_irq_is_always_scheduled():
    m = make_machine("esp32")
    w = m.world
    got = []
    pin = m.Pin(4, m.Pin.IN, m.Pin.PULL_UP)
    pin.irq(handler=got.append, trigger=m.Pin.IRQ_FALLING)
    w.drive(4, 0)
    assert got == [] and w.scheduled == 1
    w.run_scheduled()
    assert got == [pin]


def test_rp2_hard_irq_runs_at_the_edge_and_soft_is_queued():
    m = make_machine("rp2")
    w = m.world
    hard, soft = [], []
    m.Pin(4, m.Pin.IN, m.Pin.PULL_UP).irq(handler=hard.append, trigger=m.Pin.IRQ_FALLING,
                                          hard=True)
    m.Pin(5, m.Pin.IN, m.Pin.PULL_UP).irq(handler=soft.append, trigger=m.Pin.IRQ_FALLING)
    w.pulse(4)
    w.pulse(5)
    assert len(hard) == 1 and soft == []
    w.run_scheduled()
    assert len(soft) == 1


def test_schedule_queue_holds_eight_and_drops_the_rest(m):
    w = m.world
    got = []
    m.Pin(4, m.Pin.IN, m.Pin.PULL_UP).irq(handler=got.append, trigger=m.Pin.IRQ_FALLING)
    for _ in range(11):
        w.pulse(4)
    assert w.scheduled == 8 and w.sched_dropped == 3
    w.run_scheduled()
    assert len(got) == 8


def test_trigger_selects_edges(m):
    w = m.world
    got = []
    m.Pin(4, m.Pin.IN, m.Pin.PULL_UP).irq(handler=got.append, trigger=m.Pin.IRQ_RISING)
    w.drive(4, 0)
    w.run_scheduled()
    assert got == []
    w.drive(4, 1)
    w.run_scheduled()
    assert len(got) == 1


def test_irq_handler_none_disables(m):
    w = m.world
    got = []
    pin = m.Pin(4, m.Pin.IN, m.Pin.PULL_UP)
    pin.irq(handler=got.append, trigger=m.Pin.IRQ_FALLING)
    pin.irq(handler=None)
    w.pulse(4)
    w.run_scheduled()
    assert got == []


def test_rp2_hard_irq_exception_disables_the_irq():
    m = make_machine("rp2")
    w = m.world
    calls = []

    def bad(pin):
        calls.append(pin)
        raise ValueError("boom")

    m.Pin(4, m.Pin.IN, m.Pin.PULL_UP).irq(handler=bad, trigger=m.Pin.IRQ_FALLING, hard=True)
    w.pulse(4)
    w.pulse(4)
    assert len(calls) == 1
    assert "Uncaught exception in IRQ callback handler" in w.log[0]


def test_disable_irq_defers_hard_irqs():
    m = make_machine("rp2")
    w = m.world
    got = []
    m.Pin(4, m.Pin.IN, m.Pin.PULL_UP).irq(handler=got.append, trigger=m.Pin.IRQ_FALLING,
                                          hard=True)
    state = m.disable_irq()
    w.pulse(4)
    w.pulse(4)
    assert got == []
    m.enable_irq(state)
    assert len(got) == 1  # the latched edge interrupts once


def test_output_level_and_writes(m):
    w = m.world
    pin = m.Pin(13, m.Pin.OUT, value=1)
    pin.value(0)
    pin(1)
    pin.off()
    assert w.level(13) == 0
    assert w.writes(13) == [1, 0, 1, 0]


def test_open_drain_released_reads_the_bus(m):
    w = m.world
    pin = m.Pin(13, m.Pin.OPEN_DRAIN, m.Pin.PULL_UP, value=1)
    assert pin.value() == 1
    w.drive(13, 0)
    assert pin.value() == 0
    w.release(13)
    pin.value(0)
    assert pin.value() == 0


# ---- ADC --------------------------------------------------------------------------
def test_rp2_adc_is_12_bit_over_3v3():
    m = make_machine("rp2")
    adc = m.ADC(m.Pin(26))
    m.world.set_volts(26, 1.65)
    raw = adc.read_u16()
    assert raw & 0xF == raw >> 12  # raw12 << 4 | raw12 >> 8
    assert abs(raw / 65535 * 3.3 - 1.65) < 0.002
    m.world.set_volts(26, 3.3)
    assert adc.read_u16() == 65535


def test_rp2_adc_int_is_a_channel_and_takes_no_keywords():
    m = make_machine("rp2")
    m.world.set_volts(28, 1.0)
    assert m.ADC(2).read_u16() == m.ADC(m.Pin(28)).read_u16() > 0
    with pytest.raises(ValueError, match="ADC capabilities"):
        m.ADC(m.Pin(5))
    with pytest.raises(TypeError, match="keyword"):
        m.ADC(m.Pin(26), atten=3)


def test_esp32_adc_pins_and_attenuation():
    m = make_machine("esp32")
    with pytest.raises(ValueError, match="invalid pin"):
        m.ADC(m.Pin(5))
    with pytest.raises(ValueError, match="invalid attenuation"):
        m.ADC(m.Pin(36), atten=4)
    adc = m.ADC(m.Pin(36), atten=m.ADC.ATTN_0DB)
    m.world.set_volts(36, 1.5)
    assert adc.read_u16() == 65535  # beyond the 0 dB range: clipped
    adc.atten(m.ADC.ATTN_11DB)
    assert adc.read_u16() < 65535


@pytest.mark.parametrize("mv", [200, 500, 1000, 1500, 2000, 2400])
def test_esp32_read_uv_is_calibrated_in_the_linear_range(mv):
    m = make_machine("esp32")
    adc = m.ADC(m.Pin(34), atten=m.ADC.ATTN_11DB)
    m.world.set_volts(34, mv / 1000)
    assert abs(adc.read_uv() - mv * 1000) <= 2000
    assert adc.read_uv() % 1000 == 0


def test_esp32_adc_is_not_linear_outside_150_2450_mv():
    m = make_machine("esp32")
    adc = m.ADC(m.Pin(34), atten=m.ADC.ATTN_11DB)
    m.world.set_volts(34, 3.0)
    assert 3000000 - adc.read_uv() > 100000  # reads low above the linear range
    m.world.set_volts(34, 0.05)
    assert adc.read_u16() == 0  # at or below the minimum: 0
    assert adc.read_uv() > 0  # ground reads above 0 uV


# ---- UART -------------------------------------------------------------------------
UART_PINS = {"esp32": (2, 17, 16), "rp2": (1, 4, 5)}


def uart(m, baud=9600):
    uid, tx, rx = UART_PINS[m.port]
    return m.UART(uid, baudrate=baud, tx=m.Pin(tx), rx=m.Pin(rx)), uid


def test_uart_write_is_non_blocking_and_takes_byte_time(m):
    u, uid = uart(m)
    w = m.world
    assert u.write(b"12345678") == 8
    assert w.clock.us == 0 and not u.txdone()
    assert w.uart(uid).tx == b""
    w.clock.advance_us(1042 * 3)
    assert w.uart(uid).take_tx() == b"123"
    u.flush()
    assert u.txdone() and w.clock.us == 8 * 1042  # 10 bits a character at 9600
    assert w.uart(uid).tx == b"45678"


def test_uart_parity_adds_a_bit(m):
    u, uid = uart(m)
    u.init(baudrate=9600, bits=8, parity=0, stop=1)
    u.write(b"ab")
    u.flush()
    assert m.world.clock.us == 2 * 1146  # 11 bits


def test_uart_peer_answers_after_the_frame(m):
    u, uid = uart(m)
    w = m.world

    class Peer:
        def respond(self, frame):
            return b"re:" + frame

    w.uart(uid).peer = Peer()
    u.write(b"hi")
    u.flush()
    assert u.any() == 0
    w.clock.advance_us(5 * 1042)
    assert u.any() == 5
    assert u.read() == b"re:hi"
    assert u.read() is None


def test_uart_read_returns_none_without_data(m):
    u, uid = uart(m)
    assert u.read(4) is None
    buf = bytearray(4)
    assert u.readinto(buf) is None


def test_uart_feed_arrives_by_baud(m):
    u, uid = uart(m)
    w = m.world
    w.uart(uid).feed(b"abcd")
    w.clock.advance_us(2 * 1042)
    assert u.any() == 2
    w.uart(uid).feed(b"xy", paced=False)
    w.clock.advance_us(2 * 1042)
    assert u.read() == b"abcdxy"


def test_uart_write_blocks_only_when_the_tx_path_is_full(m):
    u, uid = uart(m, baud=115200)
    u.write(bytes(100))
    assert m.world.clock.us == 0
    if m.port == "esp32":
        u.write(bytes(1000))  # 256 ring + 128 FIFO: the rest waits
        assert m.world.clock.us > 0
    else:
        n = u.write(bytes(1000))  # 256 ring + 32 FIFO; timeout 0: a short write
        assert n < 1000


def test_uart_ids_and_pins():
    esp = make_machine("esp32")
    with pytest.raises(ValueError, match="UART\\(3\\) does not exist"):
        esp.UART(3)
    with pytest.raises(OSError):
        esp.UART(2, tx=esp.Pin(34), rx=esp.Pin(16))
    with pytest.raises(ValueError, match="REPL UART buffer size is fixed"):
        esp.UART(0, txbuf=1024)
    rp = make_machine("rp2")
    with pytest.raises(ValueError, match="UART\\(2\\) doesn't exist"):
        rp.UART(2)
    with pytest.raises(ValueError, match="bad TX pin"):
        rp.UART(0, tx=rp.Pin(4), rx=rp.Pin(1))
    with pytest.raises(ValueError, match="bad RX pin"):
        rp.UART(1, tx=rp.Pin(4), rx=rp.Pin(1))


def test_esp32_repl_lines_over_128_bytes_block_for_rtos_ticks():
    assert make_machine("esp32").world.repl_write_cost_us(300) >= 10000
    assert make_machine("rp2").world.repl_write_cost_us(300) == 0
    assert repl_write_cost_us(100) == 0
    assert repl_write_cost_us(128) == 0
    assert repl_write_cost_us(129) == 10000
    assert repl_write_cost_us(300) >= 10000


# ---- WDT, resets ------------------------------------------------------------------
def test_wdt_cannot_be_stopped(m):
    wdt = m.WDT(timeout=1000)
    assert not hasattr(wdt, "deinit") and not hasattr(wdt, "stop")


def test_wdt_expires_unless_fed(m):
    w = m.world
    wdt = m.WDT(timeout=1000)
    w.clock.advance_ms(900)
    wdt.feed()
    w.clock.advance_ms(900)
    assert not w.wdt.expired()
    w.clock.advance_ms(200)
    assert w.wdt.expired()
    assert w.check_wdt()
    assert m.reset_cause() == m.WDT_RESET and w.wdt is None


def test_wdt_survives_soft_reset(m):
    w = m.world
    m.WDT(timeout=1000)
    with pytest.raises(BoardReset):
        m.soft_reset()
    assert w.wdt is not None
    w.clock.advance_ms(1100)
    assert w.wdt.expired()


def test_wdt_state_carries_over_to_a_fresh_board(m):
    m.WDT(timeout=2000)
    m.world.clock.advance_ms(500)
    state = m.world.soft_reset_state()
    again = make_machine(m.port, restore=state)
    assert again.world.wdt.timeout_ms == 2000
    again.world.clock.advance_ms(1400)
    assert not again.world.wdt.expired()
    again.world.clock.advance_ms(200)
    assert again.world.wdt.expired()


def test_power_cycle_stops_the_wdt(m):
    m.WDT(timeout=1000)
    m.world.power_cycle()
    assert m.world.wdt is None and m.reset_cause() == m.PWRON_RESET


def test_wdt_timeout_limits():
    esp = make_machine("esp32")
    with pytest.raises(ValueError, match="too short"):
        esp.WDT(timeout=0)
    esp.WDT(timeout=60000)
    rp = make_machine("rp2")
    with pytest.raises(ValueError, match="timeout exceeds 8388"):
        rp.WDT(timeout=8389)
    rp.WDT(timeout=8388)
    with pytest.raises(ValueError):
        rp.WDT(id=1, timeout=1000)


def test_reset_cause_after_machine_reset():
    esp = make_machine("esp32")
    with pytest.raises(BoardReset):
        esp.reset()
    assert esp.reset_cause() == esp.HARD_RESET
    rp = make_machine("rp2")
    with pytest.raises(BoardReset):
        rp.reset()
    assert rp.reset_cause() == rp.WDT_RESET  # machine.reset() is a watchdog reboot


def test_reset_cause_after_soft_reset():
    esp = make_machine("esp32")
    with pytest.raises(BoardReset):
        esp.soft_reset()
    assert esp.reset_cause() == esp.SOFT_RESET
    rp = make_machine("rp2")
    with pytest.raises(BoardReset):
        rp.soft_reset()
    assert rp.reset_cause() == rp.PWRON_RESET


def test_soft_reset_removes_irq_handlers(m):
    w = m.world
    got = []
    m.Pin(4, m.Pin.IN, m.Pin.PULL_UP).irq(handler=got.append, trigger=m.Pin.IRQ_FALLING)
    w.soft_reset()
    w.pulse(4)
    w.run_scheduled()
    assert got == []


def test_boards_are_independent():
    a = make_machine("esp32")
    b = make_machine("esp32")
    a.Pin(13, a.Pin.OUT, value=1)
    assert b.world.level(13) == 0


def test_uart_read_timeout_per_port():
    esp = make_machine("esp32")
    u = esp.UART(2, baudrate=9600, tx=esp.Pin(17), rx=esp.Pin(16), timeout=5)
    assert u.read(1) is None and esp.world.clock.us == 0  # 5 ms is 0 RTOS ticks
    u.init(timeout=25)
    assert u.read(1) is None and esp.world.clock.us == 20000  # two 10 ms ticks
    rp = make_machine("rp2")
    u = rp.UART(1, baudrate=9600, tx=rp.Pin(4), rx=rp.Pin(5))
    assert u.read(1) is None and rp.world.clock.us == 1000  # timeout 0 still waits a tick


def test_uart_read_waits_for_a_byte_within_the_timeout(m):
    u, uid = uart(m)
    u.init(timeout=50)
    m.world.uart(uid).feed(b"z", start_us=10000, paced=False)
    assert u.read(1) == b"z"
    assert m.world.clock.us == 10000


def test_esp32_uart_init_waits_for_tx_done():
    m = make_machine("esp32")
    u, uid = uart(m)
    u.write(b"abcd")
    u.init(baudrate=19200)
    assert m.world.clock.us == 4 * 1042 and m.world.uart(uid).tx == b"abcd"


def test_a_second_wdt_reconfigures_the_one_watchdog(m):
    w = m.world
    m.WDT(timeout=1000)
    w.clock.advance_ms(800)
    m.WDT(timeout=3000)
    w.clock.advance_ms(2500)
    assert not w.wdt.expired() and w.wdt.timeout_ms == 3000


@pytest.mark.parametrize("bias_mv,garbage", [(139, 1), (250, 0)])
def test_rs485_release_with_weak_bias_gives_a_garbage_byte(m, bias_mv, garbage):
    u, uid = uart(m)
    de = m.Pin(13, m.Pin.OUT, value=0)
    m.world.rs485(uid, de_pin=13, bias_mv=bias_mv)
    de(1)
    u.write(b"\x01\x03")
    u.flush()
    de(0)
    m.world.clock.advance_ms(5)
    assert u.any() == garbage


def test_a_pin_is_its_static_table_entry(m):
    # Both ports return the GPIO's entry in a static table (esp32 machine_pin.c:236-251,
    # rp2 machine_pin.c:165-188): no heap object per Pin(), and a second Pin(n)
    # with a mode reconfigures the same object.
    a = m.Pin(4)
    b = m.Pin(4, m.Pin.OUT, value=1)
    assert a is b
    assert a.value() == 1
    assert m.Pin(5) is not a


def test_esp32_dac_is_a_static_channel():
    m = make_machine("esp32")
    assert m.DAC(m.Pin(25)) is m.DAC(25)
    assert m.DAC(25) is not m.DAC(26)
    with pytest.raises(ValueError):
        m.DAC(4)


def test_the_write_log_of_a_pin_stays_bounded(m):
    from host_tools.twins.board import WRITES_KEPT

    p = m.Pin(4, m.Pin.OUT)
    for i in range(5 * WRITES_KEPT):
        p.value(i & 1)
    writes = m.world.writes(4)
    assert WRITES_KEPT <= len(writes) <= 2 * WRITES_KEPT
    assert writes[-1] == (5 * WRITES_KEPT - 1) & 1
