"""In-process wake-ups: scheduling something due soon nudges the embedded dispatcher."""

from __future__ import annotations

import threading

_wake = threading.Event()


def wake() -> None:
    """Tell a local dispatcher to look for due work now."""
    _wake.set()


def wait(timeout: float) -> bool:
    """Sleep up to ``timeout`` seconds or until woken; True if woken."""
    woken = _wake.wait(timeout)
    _wake.clear()
    return woken
