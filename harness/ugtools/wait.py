# SPDX-License-Identifier: MIT
"""Polling for a condition."""

import time


def poll(pred, timeout, interval=0.05):
    """Calls pred() until it returns a true value or timeout seconds have
    passed; returns that value, or None."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def wait_until(pred, timeout=10.0, interval=0.05, what="condition"):
    """poll() for a test: a timeout fails with an AssertionError naming
    what was awaited."""
    value = poll(pred, timeout, interval)
    if not value:
        raise AssertionError("timed out after %.1fs waiting for %s"
                             % (timeout, what))
    return value
