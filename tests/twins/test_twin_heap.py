"""EspHeap answers gc.mem_free()/mem_alloc() and grows as the ESP32 port's split
heap does (py/gc.c, py/modgc.c, ports/esp32/mpconfigport.h at v1.27.0)."""

import pytest

from host_tools.twins.heap import EspHeap

K = 1024


def test_mem_free_counts_the_heap_it_could_still_grow_into():
    heap = EspHeap(total=112 * K, initial=56 * K)
    heap.alloc(40 * K)
    assert heap.size == 56 * K
    assert heap.mem_free() == 112 * K - 40 * K  # 16 K free in the heap + 56 K the IDF has


def test_a_low_water_check_on_mem_free_sees_no_pressure_until_the_growth_is_spent():
    heap = EspHeap(total=112 * K, initial=56 * K)
    heap.disable()
    heap.alloc(50 * K)
    heap.free(50 * K)  # all garbage: a collection would free it
    heap.alloc(30 * K)  # does not fit: the heap grows instead of collecting
    assert heap.size > 56 * K
    assert heap.mem_free() >= 112 * K - 80 * K
    assert heap.mem_alloc() == 80 * K


def test_with_automatic_collection_the_port_collects_before_growing():
    heap = EspHeap(total=112 * K, initial=56 * K)
    heap.alloc(50 * K)
    heap.free(50 * K)
    heap.alloc(30 * K)
    assert heap.collections == 1 and heap.size == 56 * K


def test_growth_doubles_then_takes_what_is_left():
    heap = EspHeap(total=200 * K, initial=56 * K)
    heap.disable()
    heap.alloc(55 * K)
    heap.alloc(10 * K)
    assert heap.areas == [56 * K, 56 * K]
    heap.alloc(50 * K)
    assert heap.areas == [56 * K, 56 * K, 88 * K]


def test_no_growth_when_the_largest_idf_block_is_smaller_than_needed():
    heap = EspHeap(total=150 * K, initial=56 * K)
    heap.disable()
    heap.alloc(55 * K)
    heap.alloc(10 * K)
    with pytest.raises(MemoryError):
        heap.alloc(50 * K)  # needs 50 K + 2 K, the IDF has 38 K


def test_memory_error_when_the_idf_has_no_block_big_enough():
    heap = EspHeap(total=112 * K, initial=56 * K)
    heap.alloc(50 * K)
    heap.alloc(50 * K)  # grows to 112 K
    assert heap.size == 112 * K
    with pytest.raises(MemoryError):
        heap.alloc(20 * K)
