"""Turn a callback-style producer (draft_section's on_delta) into a generator for st.write_stream.

The producer runs in a worker thread and pushes deltas into a queue; the generator yields
them as they arrive, then re-raises the producer's exception or keeps its return value.
No polling and no sleeps: the queue blocks until the next delta or the end marker.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_END = object()


class StreamedCall(Generic[T]):
    """`for item in call: ...` then `call.result` (or the producer's exception is raised).

    The producer gets an `emit` callback; whatever it emits (text deltas, finished sections)
    is yielded in order on the consuming (script) thread, where Streamlit calls are allowed.
    """

    def __init__(self, producer: Callable[[Callable[[Any], None]], T]) -> None:
        self._producer = producer
        self._queue: queue.Queue[Any] = queue.Queue()
        self._result: T | None = None
        self._error: BaseException | None = None
        self._done = False

    def _run(self) -> None:
        try:
            self._result = self._producer(self._queue.put)
        except BaseException as err:  # handed to the consuming thread, re-raised there
            self._error = err
        finally:
            self._queue.put(_END)

    def __iter__(self) -> Iterator[Any]:
        worker = threading.Thread(target=self._run, name="huibao-stream", daemon=True)
        worker.start()
        while True:
            item = self._queue.get()
            if item is _END:
                break
            if item is not None and item != "":
                yield item
        worker.join()
        self._done = True
        if self._error is not None:
            raise self._error

    @property
    def result(self) -> T:
        if not self._done:
            raise RuntimeError("stream not consumed")
        return self._result  # type: ignore[return-value]
