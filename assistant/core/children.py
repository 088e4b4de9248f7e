"""Worker processes (process pools) that leave ^C to their parent and do not outlive it."""

from __future__ import annotations

import os
import signal
import threading
import time


def init_worker(interval: float = 0.5) -> None:
    """A process pool's initializer (call first in a worker process).

    ^C reaches the whole process group: the worker ignores it and the parent, which saves what is
    done and then stops its pools, handles it, rather than every worker dying mid-task with a
    traceback on the user's terminal. And the worker exits as soon as the process that started it
    is gone: a pool's workers wait for work on a pipe, and when their parent was killed (SIGKILL,
    a stopped page server) they slept on, holding their memory (a loaded model: ~180 MB)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(0)

    threading.Thread(target=watch, name="huibao-parent-watch", daemon=True).start()
