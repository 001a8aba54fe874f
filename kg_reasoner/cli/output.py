"""Where ``assess`` writes: an output file written through a temporary file and renamed (never the
input), and what an earlier run already wrote (``--resume``).
"""

from __future__ import annotations

import csv
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


def already_written(path: str, fmt: str) -> set:
    if not os.path.exists(path):
        return set()
    drop_incomplete_last_line(path)
    done = set()  # (patient id, source): the same id read from another source is another patient
    with open(path, encoding="utf-8") as fh:
        if fmt == "ndjson":
            for line in fh:
                try:
                    row = json.loads(line)
                    done.add((row["patient"], row.get("source")))
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue  # a line cut by an interruption is assessed again
        else:
            done = {(row[0], row[5] if len(row) > 5 else None) for row in csv.reader(fh) if row and row[0] != "patient"}
    return done


def written_as_of(path: str, fmt: str) -> set:
    """The times the outcomes of an NDJSON output were assessed as of (``as_of``; None: the present), to resume it
    only as of the same time. (A CSV row does not say it: empty.)"""
    if fmt != "ndjson" or not os.path.exists(path):
        return set()
    times = set()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                times.add(json.loads(line).get("as_of"))
            except (ValueError, AttributeError):
                continue
    return times


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
