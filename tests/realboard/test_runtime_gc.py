"""Issue 11, defect 12 (the firmware's half): the serve loop's collections between slices
must trigger on a port-correct figure. On ESP32 gc.mem_free() adds the largest block the
GC heap could still take from ESP-IDF (py/modgc.c, MICROPY_GC_SPLIT_HEAP_AUTO), so a
low-water mark on it almost never fires there; gc.mem_alloc() counts the same on every
port. GC itself stays automatic on a board: the firmware never switches it off."""

import pytest
from runtime_rig import Rig

import app as app_mod

PER_SLICE = 400  # bytes of garbage a slice leaves (boxed floats, console strings)


@pytest.fixture
def rig(monkeypatch, tmp_path):
    return Rig(monkeypatch, tmp_path, "esp32")


def serve_slices(rig, app, n):
    gc = rig.gc
    peak = [0]
    done = [0]
    one = app.slice

    def slice_and_allocate():
        one()
        gc.alloc += PER_SLICE
        peak[0] = max(peak[0], gc.alloc)
        done[0] += 1
        if done[0] >= n:
            app.running = False

    app.slice = slice_and_allocate
    app_mod.serve(app)
    return peak[0]


def test_esp32_collects_between_slices_although_mem_free_counts_the_growable_heap(rig):
    gc = rig.gc
    gc.live = gc.alloc = 64 * 1024
    gc.heap = 112 * 1024
    gc.grow = 90 * 1024  # ESP-IDF's largest free block: mem_free() never looks low
    app = rig.boot()
    before = gc.collections
    peak = serve_slices(rig, app, 1000)  # 10 s: 400 KB of garbage
    assert gc.collections - before >= 10
    assert peak <= gc.live + 16 * 1024 + PER_SLICE  # the heap never needs to grow
    assert gc.enabled  # still automatic: a request bigger than the budget still fits


def test_a_board_without_growth_collects_the_same(rig):
    gc = rig.gc
    gc.grow = 0
    app = rig.boot()
    before = gc.collections
    serve_slices(rig, app, 1000)
    assert gc.collections - before >= 10


def test_manual_collection_when_the_host_switched_gc_off_keeps_the_low_water_mark(rig):
    # The host MicroPython (docs/micropython-host.md): GC off before main.py; then the
    # heap does not grow and mem_free() is exact: free never falls under 34 KB.
    gc = rig.gc
    gc.enabled = False
    gc.heap = 110 * 1024
    gc.live = gc.alloc = 70 * 1024
    app = rig.boot()
    assert app.heap.manual
    serve_slices(rig, app, 1000)
    assert not gc.enabled  # the firmware does not switch it back on
    assert gc.heap - gc.alloc >= 34 * 1024 - PER_SLICE
