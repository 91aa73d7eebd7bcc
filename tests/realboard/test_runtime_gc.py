"""Issue 11, defect 12 (the firmware's half): the serve loop's collections between slices
must trigger on a port-correct figure. On ESP32 gc.mem_free() adds the largest block the
GC heap could still take from ESP-IDF (py/modgc.c, MICROPY_GC_SPLIT_HEAP_AUTO), so a
low-water mark on it almost never fires there and every collection happens inside a
slice, when an allocation finds the heap full; gc.mem_alloc() counts the same on every
port. GC itself stays automatic on a board: the firmware never switches it off. The heap
is the twins' model of the port's (host_tools/twins/heap.py)."""

import pytest

import app as app_mod
from host_tools.twins import PORTS
from runtime_rig import Rig, board_heap

PER_SLICE = 400  # bytes of garbage a slice leaves (boxed floats, console strings)


@pytest.fixture(params=PORTS)
def rig(request, monkeypatch, tmp_path):
    return Rig(monkeypatch, tmp_path, request.param)


def serve_slices(rig, app, n):
    """serve() for n slices, each leaving PER_SLICE bytes of garbage; the number of
    collections that happened inside a slice (the heap full: automatic)."""
    heap = rig.gc
    inside = [0]
    done = [0]
    one = app.slice

    def slice_and_allocate():
        one()
        before = heap.collections
        heap.alloc(PER_SLICE)
        heap.free(PER_SLICE)
        inside[0] += heap.collections - before
        done[0] += 1
        if done[0] >= n:
            app.running = False

    app.slice = slice_and_allocate
    app_mod.serve(app)
    return inside[0]


def test_collections_happen_between_slices_whatever_mem_free_counts(rig):
    heap = rig.gc
    app = rig.boot()
    size = heap.size
    before = app.heap.collections
    inside = serve_slices(rig, app, 1000)  # 10 s of slices: 400 KB of garbage
    assert app.heap.collections - before >= 10
    assert inside == 0  # never a collection in the middle of a slice
    assert heap.size == size  # and the heap did not have to grow for garbage
    assert heap.isenabled()  # still automatic: a request bigger than the budget fits


def test_esp32_mem_free_never_looks_low_while_the_heap_can_grow(rig):
    # What the low-water mark of the firmware before issue 11 saw: enough, always.
    if rig.port != "esp32":
        pytest.skip("the RP2 heap does not grow")
    heap = rig.gc
    for _ in range(200):
        heap.alloc(PER_SLICE)
        heap.free(PER_SLICE)
        assert heap.mem_free() > 34 * 1024


def test_manual_collection_when_the_host_switched_gc_off_keeps_the_low_water_mark(
        monkeypatch, tmp_path):
    # The host MicroPython (docs/micropython-host.md): GC off before main.py; its heap
    # does not grow, mem_free() is exact, and free never falls under 34 KB.
    rig = Rig(monkeypatch, tmp_path, "esp32")
    rig.gc = board_heap("rp2", live=150 * 1024)  # a fixed heap with 42 KB free
    monkeypatch.setattr(app_mod, "gc", rig.gc)
    rig.gc.disable()
    app = rig.boot()
    assert app.heap.manual
    inside = serve_slices(rig, app, 1000)
    assert not rig.gc.isenabled()  # the firmware does not switch it back on
    assert inside == 0
    assert rig.gc.mem_free() >= 34 * 1024 - PER_SLICE
