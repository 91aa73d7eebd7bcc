# `copflow bench --memory`, inside a virtual board: installed on the flash as
# /main.py, with the firmware's own main.py beside it as /fw_main.py. It puts
# a recording `gc` in sys.modules and then boots the firmware unchanged, so
# every gc.collect() the boot makes ends a phase whose peak is gc.mem_alloc()
# just before it (collection is manual on the host MicroPython: nothing is
# freed between two collections). The serve loop's first gc.mem_free() marks
# the end of boot; from then on mem_free() answers 0 so the loop collects after
# every slice, and the heap right after each collection is the live heap.
# Figures go to /bench_mem.json (read by the host from the flash folder).
# Frames stay small wherever a collection runs (docs/micropython-host.md).
import gc as _gc
import sys

_gc.collect()
# baseline, boots, phase, boot peak, live, live max, steady peak, collections,
# steady collections; then up to 24 phase peaks and the heap after each of them
S = [0] * 57
_BASE = 0
_BOOT = 1
_PHASE = 2
_PEAK = 3
_LIVE = 4
_LIVE_MAX = 5
_STEADY = 6
_COLL = 7
_SCOLL = 8
_PHASES = 9
_AFTER = 33
_EVERY = 50  # steady collections between two writes of the figures


def _write(modules):
    out = open("/bench_mem.json", "w")
    out.write('{"baseline": %d, "booted": %d, "boot_peak": %d, "live": %d, "live_max": %d, '
              '"steady_peak": %d, "collections": %d, "phases": ['
              % (S[_BASE], S[_BOOT], S[_PEAK], S[_LIVE], S[_LIVE_MAX], S[_STEADY], S[_COLL]))
    for i in range(S[_PHASE]):
        out.write("%s%d" % ("," if i else "", S[_PHASES + i]))
    out.write('], "after": [')
    for i in range(S[_PHASE]):
        out.write("%s%d" % ("," if i else "", S[_AFTER + i]))
    out.write("]")
    if modules:
        out.write(', "modules": [')
        first = True
        for name in sys.modules:
            out.write('%s"%s"' % ("" if first else ",", name))
            first = False
        out.write("]")
    out.write("}\n")
    out.close()


class RecordingGc:
    def collect(self):
        a = _gc.mem_alloc()
        if S[_BOOT]:
            if a > S[_STEADY]:
                S[_STEADY] = a
        else:
            if a > S[_PEAK]:
                S[_PEAK] = a
            if S[_PHASE] < 24:
                S[_PHASES + S[_PHASE]] = a
                S[_PHASE] += 1
        _gc.collect()
        S[_COLL] += 1
        live = _gc.mem_alloc()
        if not S[_BOOT] and S[_PHASE] <= 24:
            S[_AFTER + S[_PHASE] - 1] = live
        if S[_BOOT]:
            S[_LIVE] = live
            if live > S[_LIVE_MAX]:
                S[_LIVE_MAX] = live
            S[_SCOLL] += 1
            if S[_SCOLL] % _EVERY == 0:
                _write(False)

    def mem_free(self):
        if not S[_BOOT]:
            self.collect()  # the last boot phase (banner, first slice) ends here
            S[_BOOT] = 1
            _write(True)
        return 0

    def mem_alloc(self):
        return _gc.mem_alloc()

    def isenabled(self):
        return _gc.isenabled()

    def enable(self):
        _gc.enable()

    def disable(self):
        _gc.disable()

    def threshold(self, *args):
        return _gc.threshold(*args)


S[_BASE] = _gc.mem_alloc()
sys.modules["gc"] = RecordingGc()
import fw_main  # noqa: E402, F401
