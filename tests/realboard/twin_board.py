"""The board HAL's real MachineIO over a machine twin, for the tests in this folder."""

import hal_board
from host_tools.twins.modules import installed


def machine_io(m):
    """hal_board.MachineIO over twin board `m`; its `import time` binds the twin's clock."""
    with installed(m):
        return hal_board.MachineIO(m, m.port)
