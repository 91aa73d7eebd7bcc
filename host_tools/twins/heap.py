# The GC heap of the ESP32 port, for tests of the firmware's memory policy
# (gc semantics are not machine's; this lives with the twins because it is port
# behaviour). MicroPython v1.27.0 sources:
# - ports/esp32/mpconfigport.h:26-37: the heap starts at 56 KB on the ESP32
#   (MICROPY_GC_INITIAL_HEAP_SIZE) and :86-87 MICROPY_GC_SPLIT_HEAP(_AUTO): it
#   grows by adding areas taken from the ESP-IDF heap.
# - py/gc.c:775-843 gc_alloc: when no block fits, collect first (if automatic
#   collection is enabled), and only then try to add an area; with automatic
#   collection disabled, add an area straight away.
# - py/gc.c:253-345 gc_try_add_heap: needs failed + max(2048, failed*13/512)
#   bytes from the largest free IDF block (ports/esp32/gccollect.c:80-88), and
#   adds min(that block, max(current total, needed)): the heap doubles.
# - py/modgc.c:63-73: gc.mem_free() is the free GC heap PLUS the largest IDF
#   block it could still grow into; gc.mem_alloc() the allocated blocks.

BLOCK = 16  # MICROPY_BYTES_PER_GC_BLOCK on 32-bit ports


def _blocks(n):
    return (n + BLOCK - 1) // BLOCK * BLOCK


class EspHeap:
    """EspHeap(total, initial=56 KB): a GC heap that starts at `initial` bytes and
    can grow, one area at a time, until `total` (initial plus the largest block
    ESP-IDF can give it). No fragmentation is modelled: a request fits when
    enough bytes are free.

    alloc(n) allocates n live bytes (MemoryError as the port raises it);
    free(n) makes n live bytes garbage (unreachable, until a collection);
    collect() is gc.collect(); enable()/disable()/isenabled() as gc's;
    mem_free()/mem_alloc() answer as the port's gc module does."""

    def __init__(self, total, initial=56 * 1024):
        if initial > total:
            raise ValueError("initial heap larger than total")
        self.total = total
        self.areas = [initial]
        self.live = 0
        self.garbage = 0
        self.auto = True
        self.collections = 0
        self.peak = 0

    @property
    def size(self):
        return sum(self.areas)

    def idf_largest_free(self):
        return self.total - self.size

    def _fits(self, n):
        return self.live + self.garbage + n <= self.size

    def _try_grow(self, n):
        needed = n + max(2048, n * 13 // 512)
        avail = self.idf_largest_free()
        if avail < needed:
            return False
        self.areas.append(min(avail, max(self.size, needed)))
        return True

    def alloc(self, n):
        n = _blocks(n)
        collected = not self.auto
        added = False
        while not self._fits(n):
            if collected:
                if not added and self._try_grow(n):
                    added = True
                    continue
                raise MemoryError("memory allocation failed, allocating %d bytes" % n)
            self.collect()
            collected = True
        self.live += n
        if self.live + self.garbage > self.peak:
            self.peak = self.live + self.garbage

    def free(self, n):
        n = _blocks(n)
        if n > self.live:
            raise ValueError("more than is live")
        self.live -= n
        self.garbage += n

    def collect(self):
        self.garbage = 0
        self.collections += 1

    def enable(self):
        self.auto = True

    def disable(self):
        self.auto = False

    def isenabled(self):
        return self.auto

    def mem_alloc(self):
        return self.live + self.garbage

    def mem_free(self):
        return self.size - self.live - self.garbage + self.idf_largest_free()
