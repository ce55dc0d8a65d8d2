"""Lines for the CI log from inside a test: figures a tier measures belong on the terminal, past
pytest's output capture, not only in a temp file."""

from __future__ import annotations

from collections.abc import Callable

import pytest


def reporter_line(config: pytest.Config, tag: str) -> Callable[[str], None]:
    """A function that prints "[tag] line" on the terminal, whatever the capture mode."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def say(line: str) -> None:
        if reporter is None:
            return
        if capture is None:
            reporter.write_line(f"[{tag}] {line}")
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"[{tag}] {line}")

    return say
