"""Two math namespaces, so each physics formula is written once and runs both ways.

`SCALAR` (the math module) keeps the per-second simulation fast: numpy on a
single float costs about a microsecond per call. `VECTOR` (numpy) lets the
steady state and the oracle's exhaustive search evaluate a whole flow grid at
once.
"""

import math
from types import SimpleNamespace

import numpy as np


def _where(cond, a, b):
    return a if cond else b


SCALAR = SimpleNamespace(exp=math.exp, log=math.log, sqrt=math.sqrt, maximum=max, minimum=min,
                         where=_where)
VECTOR = SimpleNamespace(exp=np.exp, log=np.log, sqrt=np.sqrt, maximum=np.maximum,
                         minimum=np.minimum, where=np.where)
