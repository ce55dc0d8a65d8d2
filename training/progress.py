"""A progress bar for sweeps on a terminal; nothing when output goes to a file or a log collector."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from training.run import ProgressCallback


@contextmanager
def sweep_progress(total: int) -> Iterator[ProgressCallback | None]:
    """Yield a callback that advances a bar, or None when there is no sweep or no terminal."""
    if total <= 1 or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress  # only terminals need rich

    with Progress(transient=True) as bar:
        task = bar.add_task("sweep", total=total)

        def advance(done: int, _total: int) -> None:
            bar.update(task, completed=done)

        yield advance
