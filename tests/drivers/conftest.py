"""Driver tests run on the port-faithful machine twins (host_tools.twins): every
test that gives a driver a machine object runs once per port. A test is skipped
on a port only where that port has no such peripheral (twin_io.needs)."""

import sys
from pathlib import Path

import pytest

from host_tools.twins import PORTS, make_machine

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

@pytest.fixture(scope="session", params=PORTS)
def port(request) -> str:
    """The port under test; session-scoped so property tests may take it
    (each example builds its own board with make_machine(port))."""
    return request.param


@pytest.fixture
def machine_twin(port):
    """A fresh board of the port under test."""
    return make_machine(port)


@pytest.fixture
def world(machine_twin):
    """The outside of that board: clock, pins, buses, devices."""
    return machine_twin.world
