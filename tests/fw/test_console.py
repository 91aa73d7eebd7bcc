from console import Console
from fakeapp import FakeApp


def _console():
    out = []
    return Console(FakeApp(), out.append), out


def _send(console, out, text):
    del out[:]
    for b in text.encode() if isinstance(text, str) else text:
        console.feed(b)
    return "".join(out)


def test_every_request_gets_one_response_line():
    c, out = _console()
    assert _send(c, out, "hello\n") == "ok copflow=9.9.9 proto=1 board=test uptime_s=42\n"
    assert _send(c, out, "get kp\r\n") == "ok kp=0.4\n"
    assert _send(c, out, "nosuch\n").startswith("err E_UNKNOWN ")


def test_tags_pair_responses():
    c, out = _console()
    assert _send(c, out, "#a7 get kp\n") == "#a7 ok kp=0.4\n"
    assert _send(c, out, "#a7 set kp -3\n").startswith("#a7 err E_RANGE ")
    assert _send(c, out, "#bad-tag get kp\n").startswith("err E_SYNTAX")


def test_out_of_range_set_names_the_range_and_changes_nothing():
    c, out = _console()
    reply = _send(c, out, "set ti_s 0\n")
    assert reply.startswith("err E_RANGE") and "0.1..10000.0" in reply
    assert c.app.controller.config["params"]["ti_s"] == 15.0


def test_bad_numbers_are_refused():
    c, out = _console()
    for text in ("1e999", "nan", "inf", "-inf", "abc", "0x10"):
        assert _send(c, out, "set kp %s\n" % text).startswith("err E_VALUE"), text
    assert c.app.controller.config["params"]["kp"] == 0.4


def test_overlong_line_and_control_bytes():
    c, out = _console()
    assert _send(c, out, "x" * 300 + "\n").startswith("err E_TOOLONG")
    assert _send(c, out, b"get\x00kp\n").startswith("err E_SYNTAX")
    assert _send(c, out, b"\xff\xfe\n").startswith("err E_SYNTAX")
    assert _send(c, out, "\n\r\n   \n") == ""
    assert _send(c, out, "get kp\n") == "ok kp=0.4\n"


def test_list_sends_a_counted_block():
    c, out = _console()
    reply = _send(c, out, "list valve\n").split("\n")
    assert reply[0] == "ok n=2"
    assert reply[1].startswith("!param valve_authority=0.5 ")
    assert reply[2].startswith("!param valve_rangeability=50 ")


def test_coefficients_preset_set_and_load():
    c, out = _console()
    assert _send(c, out, "coeffs preset paper-test-swapped\n") == "ok name=paper-test-swapped\n"
    reply = _send(c, out, "coeffs preset paper-printed\n")
    assert reply.startswith("err E_VALUE") and "591.6" in reply
    assert c.app.controller.config["coeffs"]["name"] == "paper-test-swapped"
    assert _send(c, out, "coeffs set cooling a1 1.99\n").startswith("ok name=")
    assert c.app.controller.model(1).a1 == 1.99
    load = ('coeffs load {"name": "x", "heating": {"a": [-30.641, 1.26, -0.0118], '
            '"t_lo": 8, "t_hi": 15, "t_ref": 11.5, "p_lo": 40, "p_hi": 62}}\n')
    assert _send(c, out, load) == "ok name=x\n"
    assert _send(c, out, "coeffs load {broken\n").startswith("err E_SYNTAX")


def test_lock_with_pin():
    c, out = _console()
    assert _send(c, out, "lock 1234\n").startswith("err E_VALUE")  # no PIN yet
    assert _send(c, out, "pin set 1234\n") == "ok pin=set\n"
    assert _send(c, out, "lock 1234\n") == "ok locked\n"
    assert _send(c, out, "set kp 1\n").startswith("err E_LOCKED")
    assert _send(c, out, "coeffs preset default\n").startswith("err E_LOCKED")
    assert _send(c, out, "get kp\n") == "ok kp=0.4\n"
    assert _send(c, out, "unlock 9999\n").startswith("err E_VALUE")
    assert _send(c, out, "unlock 1234\n") == "ok unlocked\n"
    assert _send(c, out, "set kp 1\n") == "ok kp=1\n"


def test_a_locked_console_refuses_every_command_that_acts():
    # HIL start/step preset and drive the actuator and ack clears latched alarms:
    # all refused while locked (they were accepted when the list of writes lived
    # apart from the command table).
    c, out = _console()
    _send(c, out, "set hil allowed\n")
    _send(c, out, "pin set 1234\n")
    assert _send(c, out, "lock 1234\n") == "ok locked\n"
    for line in ("hil lockstep 80", "hil realtime", "hil off", "hil step 1000 10 1 1 1",
                 "hil meas 10 1 1 1", "ack", "coeffs preset default", "mode manual",
                 "out 50", "season cooling", "save", "load", "defaults", "reboot", "maint",
                 "pin clear", "set kp 1"):
        assert _send(c, out, line + "\n").startswith("err E_LOCKED"), line
    for line in ("hello", "status", "get kp", "coeffs", "alarms", "mem", "param kp"):
        assert _send(c, out, line + "\n").startswith("ok"), line
    assert _send(c, out, "unlock 1234\n") == "ok unlocked\n"
    assert _send(c, out, "ack\n").startswith("ok")


def test_ctrl_c_twice_breaks_out():
    # One Ctrl-C is line noise (test_console_backpressure.py); two within
    # console.BREAK_MS hand the board to its REPL.
    c, out = _console()
    try:
        _send(c, out, "get k\x03\x03")
    except KeyboardInterrupt:
        return
    raise AssertionError("Ctrl-C did not interrupt")


def test_telemetry_lines_are_marked():
    c, out = _console()
    _send(c, out, "tel period 2000\n")
    _send(c, out, "tel on\n")
    del out[:]
    c.tick(1000)
    assert out == []
    c.tick(1000)
    assert len(out) == 1 and out[0].startswith("!tel mode=auto ")


def test_save_and_reboot_reach_the_app():
    c, out = _console()
    assert _send(c, out, "save\n") == "ok saved\n"
    assert c.app.saved is not None
    assert _send(c, out, "reboot\n") == "ok rebooting\n"
    assert c.app.rebooted


def test_mem_reports_the_collections_the_serve_loop_measured():
    c, out = _console()
    c.app.heap.collected(900, 30000)
    c.app.heap.collected(1200, 29000)
    reply = _send(c, out, "mem\n")
    assert reply.startswith("ok free=")
    words = dict(w.split("=") for w in reply.split()[1:])
    assert words["collections"] == "2" and words["gc_max_us"] == "1200"
    assert words["live_first"] == "30000" and words["live_last"] == "29000"
    assert words["live_max"] == "30000"
