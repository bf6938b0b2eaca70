"""Ctrl-C and SIGTERM during training: the first finishes the step, writes a checkpoint and stops;
a second Ctrl-C stops at once."""

from __future__ import annotations

import contextlib
import signal
import sys


class StopRequest:
    def __init__(self):
        self.requested = False


@contextlib.contextmanager
def stop_on_signals(request: StopRequest):
    """Within the block, SIGINT/SIGTERM set request.requested instead of raising (main thread only)."""
    old = {}

    def on_signal(signum, frame):
        request.requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)
        print(
            f"\n{signal.Signals(signum).name}: finishing this step and writing a checkpoint "
            "(press Ctrl-C again to stop at once)",
            file=sys.stderr,
        )

    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, on_signal)
    except ValueError:  # not the main thread: leave signals alone
        old = {}
    try:
        yield request
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
