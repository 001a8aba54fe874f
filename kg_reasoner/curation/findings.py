"""What a check of a guidance module found: one ``Finding`` per problem, naming the term and the axiom
(or statement) at fault and saying what to change.

Every finding is reported by ``kg-reasoner check``. The ones ``blocking`` (an axiom neither engine
would honour, an authoring error) also make loading the module fail: a module is never run with a part
of it silently ignored.
"""

from __future__ import annotations

import builtins
from dataclasses import asdict, dataclass

#: The kinds of check, in the order they are reported.
CHECKS = ("profile", "unsupported", "declaration", "consistency", "authoring", "rules", "qc", "hermit")


#: The kinds of check whose errors refuse a module at load (the fast ones).
BLOCKING_CHECKS = frozenset({"profile", "unsupported", "consistency", "authoring"})


@dataclass(frozen=True)
class Finding:
    """One problem of a guidance module.

    ``check``: which check found it (``CHECKS``); ``term``: the term at fault (a CURIE, an <IRI>, or a
    blank node's description); ``property``: the property of the statement at fault, if one;
    ``axiom``: the axiom in OWL functional-style syntax, or the statement; ``message``: what is wrong
    and what to do; ``severity``: ``error`` or ``warning`` (a warning never fails a check)."""

    check: str
    term: str
    axiom: str
    message: str
    property: str | None = None
    severity: str = "error"

    @builtins.property  # (the field ``property`` hides the builtin in the class body)
    def blocking(self) -> bool:
        """Whether loading the module refuses it for this finding."""
        return self.severity == "error" and self.check in BLOCKING_CHECKS

    def to_dict(self) -> dict:
        return {**asdict(self), "blocking": self.blocking}

    def to_text(self) -> str:
        where = f"{self.term}" + (f" {self.property}" if self.property else "")
        refused = "; refused at load" if self.blocking else ""
        return f"{self.severity} [{self.check}{refused}] {where}: {self.message}\n    in {self.axiom}"


def sort_findings(findings) -> list[Finding]:
    """Distinct findings, by check (in ``CHECKS`` order), term, axiom and message."""
    order = {c: i for i, c in enumerate(CHECKS)}
    return sorted(set(findings), key=lambda f: (order.get(f.check, len(order)), f.term, f.axiom, f.message))
