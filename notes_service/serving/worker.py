"""What the app may know of the worker process it runs in under `notes-service serve`: its slot
among the supervisor's workers, and what to do the moment it is asked to stop.

hypercorn drains by waiting for every connection's request to finish, up to `graceful_timeout`; an
event stream never finishes by itself, so a worker's open streams would hold the supervisor's drain
to its end. The supervisor's workers call `stop()` as soon as they are asked to stop
(serving/server.py), before the drain begins; the app's parts that hold requests open (the live
streams) register here what ends them. Under plain `hypercorn`, or in tests, `slot` stays None and
nothing calls `stop()`.
"""

from __future__ import annotations

from collections.abc import Callable

_hooks: list[Callable[[], None]] = []
_slot: list[int] = []


def started(slot: int) -> None:
    """This process is the supervisor's worker in `slot` (a replacement gets its predecessor's)."""
    _slot[:] = [slot]


def slot() -> int | None:
    """This worker's slot, or None outside `notes-service serve`."""
    return _slot[0] if _slot else None


def on_stop(hook: Callable[[], None]) -> None:
    """Call `hook` (quick, not blocking) when this worker is asked to stop."""
    _hooks.append(hook)


def forget(hook: Callable[[], None]) -> None:
    if hook in _hooks:
        _hooks.remove(hook)


def stop() -> None:
    """This worker is asked to stop: run every hook, once."""
    hooks = list(_hooks)
    _hooks.clear()
    for hook in hooks:
        hook()
