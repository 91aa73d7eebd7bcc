"""docs/wiring.md's pin tables match the board profiles they describe."""

import re

from host_tools import hwconfig
from host_tools.paths import PROJECT_ROOT

ROW = re.compile(r"^\| [^|]*\(`(?P<key>[a-z_0-9]+\.[a-z_0-9]+)`\) \| "
                 r"(?P<pin>UART|SPI)?(?P<n>\d+) \|")


def tables() -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    current = None
    for line in (PROJECT_ROOT / "docs" / "wiring.md").read_text().splitlines():
        heading = re.match(r"^## .*\(`(?P<name>[a-z0-9-]+)`\)", line)
        if heading:
            current = out.setdefault(heading["name"], {})
            continue
        match = ROW.match(line)
        if match and current is not None:
            current[match["key"]] = int(match["n"])
    return out


def test_every_profile_pin_is_in_the_wiring_doc_and_agrees():
    documented = tables()
    assert set(documented) == set(hwconfig.profiles())
    for name, pins in documented.items():
        assert pins == hwconfig.load_profile(name)["pins"], name
