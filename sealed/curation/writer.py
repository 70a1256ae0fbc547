"""The training file, written whole or not at all: lines go to a temporary
file beside it (owner-only: it holds what the profile's missions saw),
which becomes the file in one rename once everything is on disk, so a crash
leaves no partial file. Without `replace`, an existing file is never
overwritten, even one that appears while the export runs."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from types import TracebackType


class OutputExists(Exception):
    pass


class JsonlWriter:
    def __init__(self, path: Path, *, replace: bool = False) -> None:
        # A dangling symlink too: the name is taken (and the export's audit
        # event would be on record before the commit found so).
        if (path.exists() or path.is_symlink()) and not replace:
            raise OutputExists(f"{path} exists")
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a folder")
        self.path = path
        self._replace = replace
        self._hash = hashlib.sha256()
        self.lines = 0
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        self._temp = Path(name)
        self._file = os.fdopen(fd, "wb")  # mkstemp makes it 0600

    def write(self, line: str) -> None:
        data = line.encode() + b"\n"
        self._file.write(data)
        self._hash.update(data)
        self.lines += 1

    def sha256(self) -> str:
        """The digest of what `commit` will put in place."""
        return self._hash.hexdigest()

    def flush(self) -> None:
        """Everything written is on disk (before anyone is told it exists)."""
        self._file.flush()
        os.fsync(self._file.fileno())

    def commit(self) -> None:
        self.flush()
        self._file.close()
        if self._replace:
            self._temp.replace(self.path)
        else:
            try:
                os.link(self._temp, self.path)  # fails if the name was taken meanwhile
            except FileExistsError:
                raise OutputExists(f"{self.path} appeared while exporting") from None
            self._temp.unlink()
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)  # the rename itself survives a crash
        finally:
            os.close(folder)

    def discard(self) -> None:
        self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self._temp.unlink()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        # Committed, the temporary name is gone; otherwise it goes now.
        self.discard()
