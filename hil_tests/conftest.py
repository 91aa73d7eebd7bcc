"""HIL suite: a virtual board by default, a real board with --port /dev/ttyACM0."""

import re
import sys
import time

import pytest

from host_tools.link import Link

LIVE_SLACK_BYTES = 2048  # see Dut.assert_heap_flat


def pytest_addoption(parser):
    parser.addoption("--copflow-port", dest="copflow_port", default=None,
                     help="run the HIL suite against the board on this serial port")
    # Espressif's pytest-embedded registers --port for its serial DUT. With it
    # installed, --port is its option, with the same meaning: we read it too.
    # (pytest raises ValueError for a dest already used; plugins load before us.)
    try:
        parser.addoption("--port", default=None, help="the same as --copflow-port")
    except ValueError:
        pass


def board_port_option(config) -> str | None:
    return config.getoption("copflow_port") or config.getoption("port", None)


def pytest_configure(config):
    # A real board is one serial port: parallel workers would each open it.
    if board_port_option(config) and getattr(config.option, "numprocesses", None):
        raise pytest.UsageError("hil_tests on a real board run in one process: add -n 0")


class Dut:
    """A device under test in the style of pytest-embedded: send, then expect a pattern."""

    def __init__(self, link: Link):
        self.link = link

    def send(self, line: str):
        return self.link.request(line, timeout_s=10.0)

    def expect(self, line: str, pattern: str):
        response = self.send(line)
        text = ("ok " if response.ok else f"err {response.code} ") + response.body
        match = re.search(pattern, text)
        assert match, f"{line!r} answered {text!r}, expected /{pattern}/"
        return match

    def mem(self) -> dict[str, int]:
        """The board's heap figures (`mem`): live heap after each collection, ..."""
        return {k: int(v) for k, v in self.send("mem").fields().items()}

    def assert_heap_flat(self, before: dict[str, int]) -> None:
        """No leak since `before` (a `mem()`): the live heap after collection did not
        climb. The slack covers the console's line buffers and a config copy, which
        may be live or not at a collection; a leak of even 1 byte per tick over a
        few thousand ticks is far above it."""
        after = self.mem()
        assert after["collections"] > before["collections"]
        assert after["live_last"] <= before["live_last"] + LIVE_SLACK_BYTES
        assert after["live_max"] <= before["live_max"] + LIVE_SLACK_BYTES
        assert after["free"] > 0

    def step(self, dt_ms: int, t_in_c: float | None, flow_m3h: float | None, running=1, mode=1):
        t = "nan" if t_in_c is None else repr(t_in_c)
        f = "nan" if flow_m3h is None else repr(flow_m3h)
        return self.link.command(f"hil step {dt_ms} {t} {f} {running} {mode}").fields()


@pytest.fixture(scope="session")
def port(request, tmp_path_factory):
    given = board_port_option(request.config)
    if given:
        yield given
        return
    from host_tools.vboard import VirtualBoard

    with VirtualBoard(tmp_path_factory.mktemp("hil") / "flash", log=sys.stderr).boot(20.0) as board:
        yield board.port


@pytest.fixture
def dut(port):
    with Link(port, timeout_s=10.0) as link:
        d = Dut(link)
        d.send("hil off")
        d.expect("defaults", r"^ok defaults")
        d.expect("set hil allowed", r"^ok hil=allowed")
        yield d
        d.send("hil off")
        time.sleep(0.05)
