"""Exception classes. Every message names what a clinician or researcher must fix."""

from __future__ import annotations


class KgReasonerError(Exception):
    """Base class of all kg-reasoner errors."""


class InputError(KgReasonerError):
    """Some input could not be turned into a patient graph.

    Attributes name the file, the patient and the field (a JSON pointer or an
    RDF node) so the record can be found and corrected.
    """

    def __init__(
        self, message: str, *, source: str | None = None, patient: str | None = None, field: str | None = None
    ):
        self.source = source
        self.patient = patient
        self.field = field
        self.detail = message
        where = []
        if source:
            where.append(f"file {source}")
        if patient:
            where.append(f"patient {patient}")
        if field:
            where.append(f"field {field}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class UnreadableInputError(InputError):
    """A file is missing, unreadable, or not valid JSON / RDF."""


class PatientDataError(InputError):
    """A patient record has an unknown key, a value outside the allowed list, a wrong type or a missing unit."""


class AsOfError(KgReasonerError, ValueError):
    """The time an assessment is to be made as of (``Reasoner(as_of=...)``, ``assess --as-of``) is not a time."""


class OntologyError(KgReasonerError):
    """The bundled (or user-supplied) ontology, shapes or reference table is broken."""


class GuidanceModuleError(OntologyError):
    """A guidance module was refused when loaded: it has axioms neither engine would honour (outside OWL 2
    RL, or inside it but ignored by owlrl) or authoring errors (a rule that could not run as written).

    ``findings`` lists each problem (``kg_reasoner.curation.findings.Finding``: the term, the property, the
    axiom and what to change); ``source`` names the module's files. ``kg-reasoner check MODULE.ttl``
    reports these and every slower check too."""

    def __init__(self, findings: list, source: str | None = None):
        self.findings = list(findings)
        self.source = source
        lines = [
            f"  {f.term}" + (f" {f.property}" if f.property else "") + f": {f.message}\n    in {f.axiom}"
            for f in self.findings
        ]
        where = f"guidance module {source}" if source else "the guidance module"
        super().__init__(
            f"{where} is refused: {len(self.findings)} problem(s) the engines would not run as written "
            f"(kg-reasoner check reports them all):\n" + "\n".join(lines)
        )


class IriExpectedError(KgReasonerError, TypeError):
    """A plain Python string was bound to a query variable where an IRI is needed (the subject, predicate or
    graph of a pattern, or a value that reads as an IRI): SPARQL would match it as a literal and silently find
    nothing. Give ``rdflib.URIRef(...)`` for an IRI, or ``rdflib.Literal(...)`` for a string that only looks
    like one; ``patient=`` takes a patient id or her IRI."""
