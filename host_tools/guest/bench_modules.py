# `copflow bench --memory`, inside a virtual board: installed on the flash as
# /main.py instead of the firmware's. /bench_order.txt lists firmware modules
# in dependency order (a module after everything it imports at module level),
# so each import below loads that module alone; its cost is the heap in use
# after a collection, after minus before. Figures go to /bench_modules.json.
import gc

gc.collect()


# A frame's state (locals, value stack, exception handlers) over 11 words lives
# on the heap and dies in a collection on this build: every function that
# collects, or is active during a collection, stays tiny.
G = {"names": None, "out": None, "i": 0, "before": 0, "error": None}


def load():
    with open("/bench_order.txt") as f:
        G["names"] = f.read().split()
    G["out"] = open("/bench_modules.json", "w")
    G["out"].write('{"baseline": %d' % gc.mem_alloc())


def before():
    gc.collect()
    G["before"] = gc.mem_alloc()


def load_one():
    try:
        __import__(G["names"][G["i"]])
    except Exception as exc:  # a module this port cannot import (esp32 on rp2)
        G["error"] = "%s: %s" % (type(exc).__name__, exc)


def after():
    gc.collect()
    name = G["names"][G["i"]]
    if G["error"] is None:
        G["out"].write(', "%s": %d' % (name, gc.mem_alloc() - G["before"]))
    else:
        G["out"].write(', "%s": "%s"' % (name, G["error"].replace('"', "'")))
    G["error"] = None
    G["i"] += 1


def finish():
    G["out"].write("}\n")
    G["out"].close()


load()
while G["i"] < len(G["names"]):
    before()
    load_one()
    after()
finish()
