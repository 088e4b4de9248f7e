"""Which failed model calls are retried, and how long to wait first (run by tenacity).

Retried: 408, 429, 5xx and connection failures, up to `max_retries` times, after exactly the
server's Retry-After when it sends one (a wait above MAX_RETRY_AFTER_S is reported, not
waited out), else after exponential backoff with jitter. Not retried: a timeout (the user
would wait the full timeout again), any other status (a wrong key stays wrong), and a stream
that has yielded text (the stream retries only its opening; see OpenAIChatModel.stream).

Why not the SDK's own `max_retries`: the openai client also retries timeouts, sleeps with
`time.sleep` (tests inject a recorder), retries 409 and honours Retry-After up to two minutes,
and cannot know whether a stream has already handed text to the caller. So the client is built
with max_retries=0 and this policy wraps the call.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import tenacity

from assistant.core.errors import ModelError
from assistant.llm.errors import ErrorTranslator, retry_after_seconds
from assistant.llm.port import ModelCallError

MAX_RETRY_AFTER_S = 60.0  # a longer Retry-After is reported, not waited out
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 16.0

T = TypeVar("T")


def retryable(err: BaseException) -> bool:
    """Whether another try may succeed where this one failed."""
    if isinstance(err, ModelCallError):
        # a stream that closed before any text and without a finish: nothing to repeat yet
        return err.kind == "cut_off" and not err.partial
    import openai  # heavy: loaded already by the failed call; the offline path never needs it

    if isinstance(err, openai.APITimeoutError):
        return False  # waiting the whole timeout again rarely helps; say so at once
    if isinstance(err, openai.APIConnectionError):
        return True
    if isinstance(err, openai.APIStatusError):
        if err.status_code not in (408, 429) and err.status_code < 500:
            return False
        wait = retry_after_seconds(err)
        return wait is None or wait <= MAX_RETRY_AFTER_S  # an hour-long wait: report it rather than hang
    return False


class RetryPolicy:
    """Runs a model call under the retry rules above; a final failure becomes a ModelCallError.

    Thread-safe: one policy serves a model's concurrent calls (each run gets its own tenacity
    state; the jitter RNG, seedable for tests, is behind a lock).
    """

    def __init__(
        self,
        errors: ErrorTranslator,
        max_retries: int,
        *,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        self.errors, self.max_retries, self.sleep = errors, max(0, max_retries), sleep
        self._backoff = tenacity.wait_exponential(multiplier=BACKOFF_BASE_S, max=BACKOFF_CAP_S)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def _wait(self, state: tenacity.RetryCallState) -> float:
        err = state.outcome.exception() if state.outcome is not None else None
        server_says = retry_after_seconds(err) if err is not None else None
        if server_says is not None:
            return server_says  # the server's instruction, exactly
        base = self._backoff(state)
        with self._lock:
            return base + self._rng.uniform(0, base / 2)

    def run(self, call: Callable[[], T]) -> T:
        """call(), retried as allowed. ModelErrors pass through; SDK errors are translated."""
        tries = 0

        def attempt() -> T:
            nonlocal tries
            tries += 1
            return call()

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_retries + 1),
            retry=tenacity.retry_if_exception(retryable),
            wait=self._wait,
            sleep=self.sleep,
            reraise=True,  # the last error itself, not tenacity's RetryError
        )
        try:
            return retrying(attempt)
        except ModelError:
            raise
        except Exception as err:  # noqa: BLE001 - the SDK boundary: translate everything
            raise self.errors.translate(err, retries=tries - 1) from None
