"""structlog setup: coloured key=value lines on a terminal, one JSON object per line otherwise.

The module is named `logging` inside the `oracle` package; absolute imports elsewhere still get the
standard library (`import logging`), and this module imports it the same way.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog


def configure_logging(fmt: str = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Configure structlog once per process.

    fmt: "auto" (console renderer on a TTY, JSON otherwise), "console" or "json".
    stream: where lines go; stdout by default (one canonical line per event, collected by the
    service manager).
    """
    out = stream if stream is not None else sys.stdout
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    pretty = fmt == "console" or (fmt == "auto" and out.isatty())
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(colors=out.isatty()) if pretty else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # No stream: sys.stdout as it is when a line is written, not as it was when configured
        # (a command run in-process, e.g. under click's CliRunner, closes the stream it was given).
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None) -> structlog.typing.FilteringBoundLogger:
    """A bound logger; `name` is added as the `logger` field."""
    log = structlog.get_logger()
    return log.bind(logger=name) if name else log
