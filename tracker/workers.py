"""What a web worker does once it has loaded the app, before it serves a request."""

from __future__ import annotations

import gc


def freeze_loaded_objects() -> None:
    """Put every object alive now (the app, its modules, mapped classes and compiled statements: some
    200,000) out of the garbage collector's reach, for good.

    They live as long as the worker, yet each full collection walks them all: on the meeting page,
    half a millisecond a request on average (bench/pages.py, measured with gc.callbacks). Called by
    gunicorn.conf.py once a worker has loaded the app, and by bench/pages.py at the same point.
    Never in the app factory: tests make hundreds of apps, and frozen objects are never freed.
    """
    gc.collect()
    gc.freeze()
