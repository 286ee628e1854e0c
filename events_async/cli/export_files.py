"""`export --out-dir DIR`: a file per account, `DIR/<AccountSid>.toml`.

Only a real Account SID names a file, so an account known by its position in an
accounts file (`account #3`) is reported, not written. A directory or file that cannot
be written is a `Stop`, exit 74.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from .._validate import is_sid
from ..desired.converge import Exported
from .output import EXIT_OUTPUT
from .stopping import Stop

__all__ = ["out_dir", "written"]


def out_dir(name: str) -> Path:
    """`--out-dir DIR`, made if it is not there yet."""
    directory = Path(name)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as failed:
        raise Stop(
            f"cannot write --out-dir {name}: {failed.strerror or failed}", EXIT_OUTPUT
        ) from None
    return directory


def written(exported: Exported, directory: Path) -> Exported:
    """The account's file written as DIR/<AccountSid>.toml: `text` becomes its path, or
    `error` says why it was not written."""
    if exported.error is not None or exported.text is None:
        return exported
    if not is_sid(exported.account_sid, "AC"):
        return attrs.evolve(exported, text=None, error="not written: no Account SID to name it")
    path = directory / f"{exported.account_sid}.toml"
    try:
        path.write_text(exported.text, encoding="utf-8")
    except OSError as failed:
        raise Stop(f"cannot write {path}: {failed.strerror or failed}", EXIT_OUTPUT) from None
    return attrs.evolve(exported, text=str(path))
