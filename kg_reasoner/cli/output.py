"""Where ``assess`` writes: an output file written through a temporary file and renamed (never the
input), and what an earlier run already wrote (``--resume``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from kg_reasoner.errors import InputError


def drop_incomplete_last_line(path: str) -> None:
    """An interrupted run may leave a partial last line; it is removed before appending (complete
    records are never touched) and that patient is assessed again."""
    with open(path, "rb+") as fh:
        data = fh.read()
        if data and not data.endswith(b"\n"):
            fh.truncate(data.rfind(b"\n") + 1)


def already_written(path: str, fmt: str) -> tuple[set, set]:
    """What an earlier run wrote to ``path``, read in one pass (the file is not changed: a partial last line, left
    by an interruption, is passed over here and removed by ``drop_incomplete_last_line`` before appending): the
    (patient id, source) of each complete record (the same id read from another source is another patient), and
    the times its outcomes were assessed as of (``as_of``; None: the present), to resume it only as of the same
    time. A CSV file written with other columns (by an earlier version) is refused: rows of two shapes in one file."""
    if not os.path.exists(path):
        return set(), set()
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    complete = text[: text.rfind("\n") + 1]
    done: set = set()
    times: set = set()
    if fmt == "ndjson":
        for line in complete.splitlines():
            try:
                row = json.loads(line)
                done.add((row["patient"], row.get("source")))
                times.add(row.get("as_of"))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # a line cut by an interruption is assessed again
    else:
        from kg_reasoner.write.formats import CSV_FIELDS

        rows = list(csv.reader(io.StringIO(complete)))
        if rows and tuple(rows[0]) != CSV_FIELDS:
            raise InputError(
                f"--resume: {path} has the CSV columns {','.join(rows[0])}, not those this version writes "
                f"({','.join(CSV_FIELDS)}): give another --output"
            )
        source, as_of = CSV_FIELDS.index("source"), CSV_FIELDS.index("as_of")
        for row in rows[1:]:
            if len(row) == len(CSV_FIELDS):
                done.add((row[0], row[source] or None))
                times.add(row[as_of] or None)
    return done, times


class Output:
    """``--output FILE``: written to a temporary file beside FILE and renamed over it when the run ends,
    so that FILE is never emptied before anything can fail; appended to in place with --resume. An
    output that is also an input, or lies inside an input directory, is refused. A device (e.g.
    /dev/null) is written directly."""

    def __init__(self, path: str, inputs: Sequence[str], appending: bool):
        target = Path(path).resolve()
        for given in inputs:
            source = Path(given).resolve()
            if target == source or (source.is_dir() and source in target.parents):
                raise InputError(
                    "is also an input (or lies in an input folder): writing it would destroy or "
                    "re-read the data; choose another output file",
                    source=path,
                )
        if not target.parent.is_dir():
            raise InputError(f"cannot be written: the folder {target.parent} does not exist", source=path)
        self.path, self.tmp = target, None
        if appending or (target.exists() and not target.is_file()):
            self.fh = open(target, "a" if appending else "w", encoding="utf-8")
        else:
            fd, self.tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.tmp, 0o666 & ~umask)  # the mode a plain open() would have given FILE
            self.fh = os.fdopen(fd, "w", encoding="utf-8")

    def write(self, text: str) -> int:
        try:
            return self.fh.write(text)
        except OSError as exc:
            raise InputError(f"cannot be written: {exc.strerror or exc}", source=str(self.path)) from None

    def flush(self) -> None:
        try:
            self.fh.flush()
        except OSError as exc:
            raise InputError(f"cannot be written: {exc.strerror or exc}", source=str(self.path)) from None

    def close(self) -> None:
        self.fh.close()
        if self.tmp is not None:
            os.replace(self.tmp, self.path)

    def discard(self) -> None:
        self.fh.close()
        if self.tmp is not None and os.path.exists(self.tmp):
            os.unlink(self.tmp)
