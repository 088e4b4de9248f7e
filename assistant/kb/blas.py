"""One BLAS thread for the calling thread, where numpy's OpenBLAS allows it.

OpenBLAS splits every matrix product over all cores and its threads spin-wait for each other. On
a small machine shared with other processes that is the wrong trade: when another process holds
one of two cores, a two-thread product waits for the descheduled thread. Measured on the 2-core
machine: the USE encoder ran at 7 chunks/s instead of 75 beside one busy process, using three
times the CPU; with one thread per product, 15 and 53. So the knowledge base computes each
product in one thread and spreads independent work over the cores itself
(embeddings.USEEmbedder), and a search's query product runs in one thread.

`openblas_set_num_threads_local` (OpenBLAS 0.3.27 on, as numpy's wheels bundle it) changes the
calling thread only; without it (another BLAS, an older OpenBLAS) nothing is changed.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import threading
from collections.abc import Callable, Iterator

_lock = threading.Lock()
_resolved = False
_set_local: Callable[[int], int] | None = None


def _setter() -> Callable[[int], int] | None:
    """numpy's OpenBLAS `openblas_set_num_threads_local`, or None."""
    global _resolved, _set_local
    with _lock:
        if _resolved:
            return _set_local
        _resolved = True
        import numpy as np  # heavy: ~0.1 s to import; the CLI loads this module for every command

        site = os.path.dirname(os.path.dirname(np.__file__))
        for path in sorted(glob.glob(os.path.join(site, "numpy.libs", "*openblas*.so*"))):
            try:
                # numpy has loaded this very file: dlopen returns the same library, not a copy
                fn = getattr(ctypes.CDLL(path), "openblas_set_num_threads_local", None)
            except OSError:
                continue
            if fn is not None:
                fn.argtypes = [ctypes.c_int]
                fn.restype = ctypes.c_int
                _set_local = fn
                break
        return _set_local


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Matrix products in the calling thread use one BLAS thread inside the block."""
    fn = _setter()
    if fn is None:
        yield
        return
    previous = fn(1)
    try:
        yield
    finally:
        fn(previous)


def available() -> bool:
    """Whether the BLAS thread count can be set per thread here (for tests and benchmarks)."""
    return _setter() is not None
