"""threadpoolctl adapter: numpy's BLAS held to one thread while Whisper's features are computed.

faster-whisper computes the log-mel features with numpy (`mel_filters @ magnitudes`). On some
CPUs (measured on an AMD EPYC, OpenBLAS's Haswell kernels) a multi-threaded OpenBLAS rounds that
product differently from a single-threaded one, and Whisper then hears other words: a Dask worker
(whose nanny sets OMP_NUM_THREADS=1) and the main process heard the same recording differently.
One thread gives every process the same features whatever OMP_NUM_THREADS or
OPENBLAS_NUM_THREADS say; the product is small next to the decoding, which CTranslate2 threads
itself (its own OpenMP, untouched here).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cache

from threadpoolctl import ThreadpoolController


@cache
def _controller() -> ThreadpoolController:
    # Finding the loaded thread pools walks every shared library (0.6 ms); once per process,
    # at the first decode (numpy and CTranslate2 are loaded by then), not once per decode.
    return ThreadpoolController()


def one_blas_thread() -> AbstractContextManager[object]:
    """A context in which numpy's BLAS runs on one thread (restored on exit)."""
    limits: AbstractContextManager[object] = _controller().limit(limits=1, user_api="blas")
    return limits
