"""The claims of one run's patients, admitted in input order: a patient id read twice is another record of
the cohort (renamed, never an overwrite), and a node outside a patient's namespace belongs to the first
patient who describes it (one patient's facts never touch another's). Shared by the runs that read in the
main process (``Reasoner.read_many``) and those whose workers read raw lines (``cohort.lines``).
"""

from __future__ import annotations

import hashlib

from rdflib import Graph, URIRef

from kg_reasoner.errors import InputError, PatientDataError
from kg_reasoner.read.patient import PatientInput
from kg_reasoner.read.rdf import foreign_nodes


def claim_of(pi: PatientInput) -> tuple[str, str, list[str]]:
    """What a worker that read a patient hands back for ``RunClaims.admit_unchanged``: her IRI, her
    source and the foreign nodes she describes (as text: it pickles small)."""
    return str(pi.iri), pi.source, [str(n) for n in foreign_nodes(pi.triples, pi.iri)]


class RunClaims:
    """What the patients read so far in one run claim: their IRIs and the nodes outside their namespace
    they describe. A patient is admitted in input order (``admit``): a repeat of an IRI is renamed
    (``_distinct``), a patient describing another's node is refused (``_claim_nodes``)."""

    def __init__(self) -> None:
        self.owner: dict = {}  # a node not named under a patient's IRI -> the patient of the run it belongs to
        self.seen: dict = {}  # patient IRI -> the first source it was read from in this run
        self.repeats: dict = {}  # patient IRI read more than once -> the times read

    def admit(self, pi: PatientInput | InputError) -> PatientInput | InputError:
        """The patient as this run assesses her (renamed if her IRI was read before), or the error refusing her."""
        return _claim_nodes(_distinct(pi, self.seen, self.repeats), self.owner)

    def admit_unchanged(self, claim: tuple[str, str, list[str]]) -> bool:
        """For a patient read elsewhere (a worker handed her raw line), given her ``claim_of``: True when
        ``admit`` would take her unchanged (her IRI not read before in the run, no node of hers another
        patient's), recording her claims as ``admit`` does; else False, recording nothing: she must be read
        again here and passed to ``admit``."""
        iri_text, source, foreign = claim
        iri = URIRef(iri_text)
        nodes = {URIRef(n) for n in foreign} | {iri}
        if iri in self.seen or _clashes(nodes, iri, self.owner):
            return False
        self.seen[iri] = source  # (as ``_distinct`` records a first read)
        self.owner.update((n, iri) for n in nodes)  # (as ``_claim_nodes`` records her nodes)
        return True


def _clashes(nodes: set, iri: URIRef, owner: dict) -> list[str]:
    """The nodes (sorted, as text) that another patient of the run already describes."""
    return sorted(str(n) for n in nodes if owner.get(n, iri) != iri)


def _distinct(pi: PatientInput | InputError, seen: dict, repeats: dict) -> PatientInput | InputError:
    """A patient id read again in the same run (twice in one NDJSON, in two files, as FHIR and as a summary)
    is another record of the cohort, never an overwrite: it is assessed under an IRI keyed by its source
    too (so outputs, resume and the store keep both), with a data problem naming both sources. The new IRI
    is never one another patient of the run has or gets: it counts as read."""
    if isinstance(pi, InputError):
        return pi
    # keyed by IRI (two ids can name the same patient IRI), by the URIRef the run's node owners keep anyway
    # (``_claim_nodes``), holding only the first source (the times read only for a repeat): a run's memory
    # per patient stays small
    if pi.iri not in seen:
        seen[pi.iri] = pi.source
        return pi
    first = seen[pi.iri]
    old = str(pi.iri)
    while True:  # an IRI a patient of the run already has (one read with the id "P1~<digits>") is passed over
        times = repeats[pi.iri] = repeats.get(pi.iri, 1) + 1
        new = f"{old}~{hashlib.sha256(f'{pi.source}#{times}'.encode()).hexdigest()[:10]}"
        if URIRef(new) not in seen:
            break
    seen[URIRef(new)] = pi.source  # (so a later patient whose id names it is a repeat too)

    def rename(term):
        if isinstance(term, URIRef) and (str(term) == old or str(term).startswith(old + "/")):
            return URIRef(new + str(term)[len(old) :])
        return term

    graph = Graph()
    for t in pi.graph:
        graph.add(tuple(rename(x) for x in t))
    problem = {
        "severity": "warning",
        "record": pi.source,
        "node": new,
        "field": "id",
        "value": pi.patient_id,
        "message": f"patient id {pi.patient_id!r} was also read from {first}: both are assessed, this one as "
        f"<{new}>; give each patient a unique id",
    }
    return PatientInput(pi.patient_id, URIRef(new), graph, pi.source, list(pi.data_problems) + [problem])


def _claim_nodes(pi: PatientInput | InputError, owner: dict) -> PatientInput | InputError:
    """Across a run, a node that is not named under a patient's IRI belongs to the first patient whose
    graph describes it; a later patient describing it is refused (one patient's facts never touch another's)."""
    if isinstance(pi, InputError):
        return pi
    # her own IRI and the nodes outside her namespace that she describes (her own IRI too: a patient seen
    # earlier may have described it)
    nodes = foreign_nodes(pi.triples, pi.iri) | {pi.iri}
    clash = _clashes(nodes, pi.iri, owner)
    if clash:
        return PatientDataError(
            f"describes {clash[0]}, which patient {owner[URIRef(clash[0])]} of this run already "
            "describes: one patient's facts must never touch another's",
            source=pi.source,
            patient=pi.patient_id,
        )
    owner.update((n, pi.iri) for n in nodes)
    return pi
