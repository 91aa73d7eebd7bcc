"""docs/parameters.md is what host_tools/paramdoc.py renders from the firmware's
tables: a parameter added, removed or changed without regenerating fails here."""

from host_tools.paramdoc import render
from host_tools.paths import PROJECT_ROOT


def test_the_parameters_doc_matches_the_firmware_tables():
    doc = (PROJECT_ROOT / "docs" / "parameters.md").read_text()
    assert doc == render(), ("docs/parameters.md is stale: run "
                             ".venv/bin/python -m host_tools.paramdoc docs/parameters.md")


def test_every_controller_parameter_is_in_it():
    from core import config

    doc = render()
    for entry in config.PARAMS:
        assert f"| `{entry[0]}` |" in doc


def test_help_prints_usage_and_writes_no_file(tmp_path, monkeypatch, capsys):
    """Before: `python -m host_tools.paramdoc --help` wrote the doc to a file named --help."""
    import pytest

    from host_tools.paramdoc import main

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0 and "usage:" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
