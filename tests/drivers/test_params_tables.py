"""Every driver's PARAMS table is well formed and its defaults validate."""

import importlib

import pytest

import hw
from drivers.params import validate

MODULES = sorted({m for drivers in hw.DRIVERS.values() for m, _, _ in drivers.values()}
                 | {"drivers.s0_meter"})


@pytest.mark.parametrize("module_name", MODULES)
def test_params_table_is_well_formed(module_name):
    table = importlib.import_module(module_name).PARAMS
    names = [entry[0] for entry in table]
    assert len(names) == len(set(names))
    for name, unit, low, high, default, help_text in table:
        assert isinstance(name, str) and help_text, name
        if isinstance(unit, tuple):
            assert default in unit, name
        else:
            assert type(low) is type(high) is type(default), name
            assert low <= default <= high, name
    assert set(validate(table, {}, "x")) == set(names)
