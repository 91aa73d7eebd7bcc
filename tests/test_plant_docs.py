"""docs/plant.md carries the parameter table generated from the schema; it must be current."""

from host_tools.paths import PROJECT_ROOT
from host_tools.plant.doc import table


def test_parameter_table_in_docs_is_current():
    text = (PROJECT_ROOT / "docs" / "plant.md").read_text()
    assert table() in text, "regenerate it: python -m host_tools.plant.doc"
