# Entry script of the virtual board's interpreter (see vrepl.py). boot() never
# returns: the interpreter ends through the host's "exit" call.
import gc

gc.disable()
import sys  # noqa: E402

import vrepl  # noqa: E402

vrepl.boot("raw" in sys.argv[1:])
