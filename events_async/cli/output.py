"""Standard output that says when it cannot be written: a full disk (`> /dev/full`), an I/O
error. Such a failure is an `OutputError`, which the command reports in one line with an
exit status of its own (74, sysexits' EX_IOERR), never as an unexpected error.

A reader that went away (`| head`) is still a `BrokenPipeError`: that ends the command
quietly, as Unix tools do, and is not an output error.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO, cast

__all__ = ["EXIT_OUTPUT", "OutputError", "guarded_stdout", "silence_stdout"]

EXIT_OUTPUT = 74  # EX_IOERR


class OutputError(OSError):
    """Writing to standard output failed (not a closed pipe)."""

    def describe(self) -> str:
        """One line for the user: "cannot write the output: No space left on device"."""
        reason = self.strerror or (os.strerror(self.errno) if self.errno else "an I/O error")
        return f"cannot write the output: {reason}"


class _Guarded:
    """A text stream that turns each failed write or flush into an `OutputError`."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def _failed(self, error: OSError) -> OutputError:
        return OutputError(error.errno, error.strerror)

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise self._failed(error) from error

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise self._failed(error) from error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def guarded_stdout() -> Iterator[None]:
    """`sys.stdout` raises `OutputError` for a failed write while the block runs."""
    stream = sys.stdout
    sys.stdout = cast(TextIO, _Guarded(stream))
    try:
        yield
    finally:
        sys.stdout = stream


def silence_stdout() -> None:
    """Point stdout's descriptor at /dev/null, so what is still buffered there (written to
    a closed pipe or a full disk) cannot fail again when the interpreter exits."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)
