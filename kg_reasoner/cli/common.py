"""What every command of the command line shares: the exit codes and the guidance it was asked for."""

from __future__ import annotations

from kg_reasoner.guidance import PROGESTERONE, Guidance

EXIT_OK, EXIT_NOT_ASSESSED, EXIT_INPUT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130

#: ``check`` (and ``release``): a check found an error. The same number as EXIT_NOT_ASSESSED: a problem
#: found in what was read, not a failure to read it.
EXIT_FINDINGS = EXIT_NOT_ASSESSED


def guidance_of(args) -> Guidance:
    if not args.guidance_module:
        return PROGESTERONE
    return Guidance.from_files("custom", args.guidance_module, args.guidance_rules)
