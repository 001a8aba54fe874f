"""Seeded synthetic FHIR R4: a patient summary (decision-spec section 6) written as HL7 FHIR R4 resources, the way an EHR export
would present the same facts. ``variant`` picks realistic alternatives: molar instead of mass units,
interpretation-only results, Observations instead of Conditions for symptoms, a DiagnosticReport for
the ultrasound, ICD-10-CM instead of SNOMED CT codes, and unrelated extra resources."""

from __future__ import annotations

import datetime as _dt
import json
from decimal import Decimal

from kg_reasoner.read.times import present as _present

SCT, LOINC, ICD10CM, UCUM = (
    "http://snomed.info/sct",
    "http://loinc.org",
    "http://hl7.org/fhir/sid/icd-10-cm",
    "http://unitsofmeasure.org",
)


RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


KGR_CODES = "https://w3id.org/kg-reasoner/fhir/CodeSystem/kgr"


CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


SEVERITY = {
    "light": ("255604002", "Mild"),
    "mild": ("255604002", "Mild"),
    "heavy": ("24484000", "Severe"),
    "severe": ("24484000", "Severe"),
}


SYMPTOM = {
    "vaginal_bleeding": (SCT, "289530006", "Bleeding from vagina"),
    "abdominal_pain": (SCT, "21522001", "Abdominal pain"),
}


CAUSE = {
    "chromosomal_abnormality": (SCT, "42686001", "Chromosomal abnormality in fetus affecting obstetrical care"),
    "uterine_malformation": (SCT, "41215002", "Congenital abnormality of uterus, affecting pregnancy"),
    "uterine_polyp": (ICD10CM, "N84.0", "Polyp of corpus uteri"),
    "intrauterine_adhesions": (ICD10CM, "N85.6", "Intrauterine synechiae"),
    "infection": (SCT, "199112006", "Infections of the genital tract in pregnancy"),
}


MISCARRIAGE = {
    "inevitable": (SCT, "59363009", "Inevitable abortion"),
    "incomplete": (ICD10CM, "O03.4", "Incomplete spontaneous abortion without complication"),
    "complete": (ICD10CM, "O03.9", "Complete or unspecified spontaneous abortion without complication"),
}


CONCLUSION = {"normal": ("237241002", "Viable pregnancy"), "demise": ("237242009", "Non-viable pregnancy")}


INTERPRETATION = {"low": ("L", "Low"), "normal": ("N", "Normal"), "high": ("H", "High")}


def cc(system, code, display=None):
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding], **({"text": display} if display else {})}


def qty(value, unit):
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


class Unrepresentable(Exception):
    """The summary holds a fact FHIR with the package's codes cannot carry (e.g. 'abnormal' ultrasound)."""


def summary_to_resources(p: dict, variant: int = 0, recorded: str | None = None) -> list[dict]:
    """The summary's facts as FHIR R4 resources. A summary describes one pregnancy (decision-spec section 6): without a
    gestational age to say she is pregnant, a pregnancy status or problem-list entry says it, ``recorded`` on the day
    given (ISO 8601; for an assessment as of an earlier time), else the day before the present."""
    pid = p["id"]
    subject = {"reference": f"Patient/{pid}"}
    out: list[dict] = [
        {
            "resourceType": "Patient",
            "id": pid,
            "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/Patient"]},
            "gender": "female",
        }
    ]
    n = 0

    def rid(kind):
        nonlocal n
        n += 1
        return f"{pid}-{kind}-{n}"

    def condition(code, present=True, severity=None):
        r = {
            "resourceType": "Condition",
            "id": rid("cond"),
            "subject": subject,
            "code": code,
            "clinicalStatus": cc(CLINICAL, "active"),
            "verificationStatus": cc(VERIFICATION, "confirmed" if present else "refuted"),
        }
        if severity:
            r["severity"] = severity
        return r

    if "gestational_age_weeks" in p:
        ga = p["gestational_age_weeks"]
        code = ("18185-9", "Gestational age") if variant % 2 == 0 else ("11884-4", "Gestational age Estimated")
        value = qty(ga, "wk") if variant % 3 else qty(Decimal(str(ga)) * 7, "d")
        out.append(
            {
                "resourceType": "Observation",
                "id": rid("ga"),
                "status": "final",
                "subject": subject,
                "code": cc(LOINC, *code),
                "valueQuantity": value,
            }
        )
    else:
        # (a summary describes one pregnancy, decision-spec section 6: she is pregnant. Without a gestational age
        # to say so, a pregnancy status (as HL7 IPS writes it) or the pregnancy on her problem list says it)
        # (of the day before the present (a date of the present may be of tomorrow in another zone), or the day
        # given: a record not known to be recent shows no current pregnancy)
        today = recorded or (_present() - _dt.timedelta(days=1)).date().isoformat()
        if variant % 2 == 0:
            out.append(
                {
                    "resourceType": "Observation",
                    "id": rid("pregnancy"),
                    "status": "final",
                    "subject": subject,
                    "code": cc(LOINC, "82810-3", "Pregnancy status"),
                    "valueCodeableConcept": cc(LOINC, "LA15173-0", "Pregnant"),
                    "effectiveDateTime": today,
                }
            )
        else:
            out.append(dict(condition(cc(SCT, "77386006", "Pregnancy")), recordedDate=today))
    if p.get("conception") == "art":
        code = (
            cc(SCT, "10231000132102", "In-vitro fertilization pregnancy")
            if variant % 2 == 0
            else cc(
                ICD10CM,
                "O09.811",
                "Supervision of pregnancy resulting from assisted reproductive technology, first trimester",
            )
        )
        out.append(condition(code))
    for res in p.get("progesterone", []):
        # variant: mass results written in molar units (x 3.18, exact in decimal), as a lab reporting nmol/L would
        molar = res.get("unit") == "nmol/L" or (variant % 2 == 1 and res.get("unit") == "ng/mL")
        factor = Decimal("3.18") if molar and res.get("unit") == "ng/mL" else Decimal(1)
        convert = lambda v, f=factor: Decimal(str(v)) * f  # noqa: E731
        unit = "nmol/L" if molar else "ng/mL"
        obs = {
            "resourceType": "Observation",
            "id": rid("p4"),
            "status": res.get("status", "final"),
            "subject": subject,
            "code": cc(LOINC, "14890-8", "Progesterone [Moles/volume] in Serum or Plasma")
            if molar
            else cc(LOINC, "2839-9", "Progesterone [Mass/volume] in Serum or Plasma"),
        }
        if "time" in res:
            obs["effectiveDateTime"] = res["time"]
        if "interpretation" in res:
            obs["interpretation"] = [cc(V3, *INTERPRETATION[res["interpretation"]])]
        if "value" in res and not ("interpretation" in res and variant % 3 == 2):
            obs["valueQuantity"] = qty(convert(res["value"]), unit)
            if "reference_low" in res:
                obs["referenceRange"] = [{"low": qty(convert(res["reference_low"]), unit)}]
        out.append(obs)
    for key, (system, code, display) in SYMPTOM.items():
        if key not in p:
            continue
        value = p[key]
        if variant % 2 == 0:
            sev = cc(SCT, *SEVERITY[value]) if value != "absent" else None
            out.append(condition(cc(system, code, display), present=value != "absent", severity=sev))
        else:
            obs = {
                "resourceType": "Observation",
                "id": rid("sym"),
                "status": "final",
                "subject": subject,
                "code": cc(system, code, display),
            }
            if value == "absent":
                obs["valueBoolean"] = False
            else:
                obs["valueCodeableConcept"] = cc(SCT, *SEVERITY[value])
            out.append(obs)
    if "ultrasound" in p:
        if p["ultrasound"] not in CONCLUSION:
            raise Unrepresentable("no verified code for an 'abnormal development' ultrasound conclusion")
        conclusion = cc(SCT, *CONCLUSION[p["ultrasound"]])
        if variant % 2 == 0:
            out.append(
                {
                    "resourceType": "Observation",
                    "id": rid("us"),
                    "status": "final",
                    "subject": subject,
                    "code": cc(SCT, "268445003", "Ultrasound scan - obstetric"),
                    "valueCodeableConcept": conclusion,
                }
            )
        else:
            out.append(
                {
                    "resourceType": "DiagnosticReport",
                    "id": rid("us"),
                    "status": "final",
                    "subject": subject,
                    "code": cc(SCT, "446522006", "Ultrasonography in first trimester"),
                    "conclusionCode": [conclusion],
                }
            )
    if "miscarriage" in p:
        out.append(condition(cc(*MISCARRIAGE[p["miscarriage"]])))
    for cause, present in p.get("causes", {}).items():
        out.append(condition(cc(*CAUSE[cause]), present=present))
    use = p.get("progesterone_use")
    if use is not None:
        med = cc(RXNORM, "8727", "progesterone")
        if "supervised" not in use:
            raise Unrepresentable("FHIR states who prescribed a medication: supervision cannot be left unknown")
        if use["supervised"]:
            req = {
                "resourceType": "MedicationRequest",
                "id": rid("rx"),
                "status": "active",
                "intent": "order",
                "subject": subject,
                "medicationCodeableConcept": med,
            }
            out.append(req)
            if variant % 2 == 1:
                out.append(
                    {
                        "resourceType": "MedicationStatement",
                        "id": rid("ms"),
                        "status": "active",
                        "subject": subject,
                        "medicationCodeableConcept": med,
                        "basedOn": [{"reference": f"MedicationRequest/{req['id']}"}],
                    }
                )
        else:
            out.append(
                {
                    "resourceType": "MedicationStatement",
                    "id": rid("ms"),
                    "status": "active",
                    "subject": subject,
                    "medicationCodeableConcept": med,
                }
            )
        if "symptom_course" in use:
            out.append(
                {
                    "resourceType": "Observation",
                    "id": rid("course"),
                    "status": "final",
                    "subject": subject,
                    "code": cc(KGR_CODES, "symptom-course", "Course of symptoms during treatment"),
                    "valueCodeableConcept": cc(KGR_CODES, use["symptom_course"]),
                }
            )
    if variant % 2 == 1:  # unrelated resources an export carries too
        out.append(
            {
                "resourceType": "Encounter",
                "id": rid("enc"),
                "status": "finished",
                "subject": subject,
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            }
        )
        out.append(
            {
                "resourceType": "Observation",
                "id": rid("bp"),
                "status": "final",
                "subject": subject,
                "code": cc(LOINC, "85354-9", "Blood pressure panel"),
                "component": [],
            }
        )
    return out


def bundle(resources: list[dict], kind: str = "collection") -> dict:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"fullUrl": f"urn:uuid:{r['resourceType'].lower()}-{r['id']}", "resource": r} for r in resources],
    }


def to_json(resource: dict) -> str:
    """One resource as FHIR JSON text (an NDJSON line): decimals are JSON numbers, as FHIR requires."""
    return json.dumps(resource, default=lambda d: int(d) if d == d.to_integral_value() else float(d))
