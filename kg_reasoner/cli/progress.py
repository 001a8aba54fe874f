"""A progress line on a terminal: patients done, rate, and time left (when the total is known)."""

from __future__ import annotations

import json
import re
import sys
import time

from kg_reasoner.read.files import iter_input_files

_FHIR_PATIENT = re.compile(rb'"resourceType"\s*:\s*"Patient"')


def estimate_total(inputs) -> int | None:
    """How many patients the inputs hold, counted cheaply: one per file, one per NDJSON line,
    the length of a JSON array. None when a file cannot be counted."""
    total = 0
    try:
        for path in iter_input_files(inputs):
            paths = path if isinstance(path, (list, tuple)) else [path]
            for p in paths:
                name = str(p)
                if name.endswith(".ndjson"):
                    with open(p, "rb") as fh:
                        total += sum(
                            1
                            for line in fh
                            if line.strip() and (b'"resourceType"' not in line or _FHIR_PATIENT.search(line))
                        )
                elif name.endswith(".json"):
                    with open(p, "rb") as fh:
                        head = fh.read(64).lstrip()
                    if head.startswith(b"["):
                        with open(p, encoding="utf-8") as fh:
                            total += len(json.load(fh))
                    else:
                        total += 1
                else:
                    total += 1
    except (OSError, ValueError, TypeError):
        return None
    return total


class Progress:
    """``step()`` per patient; redraws at most five times a second on stderr."""

    def __init__(self, inputs, enabled: bool):
        self.enabled = enabled
        self.done = 0
        self.start = time.monotonic()
        self.last = 0.0
        self.total = estimate_total(inputs) if enabled else None

    def step(self) -> None:
        self.done += 1
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.2 and self.done != self.total:
            return
        self.last = now
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        line = f"{self.done:,} patients, {rate:,.0f}/s"
        if self.total:
            left = max(self.total - self.done, 0)
            width = 30
            filled = int(width * min(self.done / self.total, 1))
            line = (
                f"[{'#' * filled}{'.' * (width - filled)}] {self.done:,}/{self.total:,}, {rate:,.0f}/s, "
                f"ETA {_clock(left / rate if rate else 0)}"
            )
        sys.stderr.write("\r" + line + " " * 4)
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
