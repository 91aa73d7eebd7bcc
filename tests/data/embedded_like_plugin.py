# Registers --port as Espressif's pytest-embedded does (pytest_embedded/plugin.py,
# 2.9.3: an "embedded-serial" group, `addoption('--port', help=...)`), for the
# test that the HIL suite loads beside it (tests/test_hil_options.py).


def pytest_addoption(parser):
    group = parser.getgroup("embedded-serial")
    group.addoption("--port", help="serial port (pytest-embedded)")
