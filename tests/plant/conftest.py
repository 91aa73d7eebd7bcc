import pytest

from host_tools.plant import params


@pytest.fixture(scope="session")
def pp():
    """The default plant: the paper's bench with its throttling valve."""
    return params.load(None)
