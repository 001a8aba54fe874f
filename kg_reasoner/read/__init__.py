"""Reading patient data into RDF, one ``PatientInput`` per patient: the patient summary JSON
(``summary``), RDF files (``rdf``), HL7 FHIR R4 (``fhir``, shape-checked by ``fhir_shape``), times as
intervals (``times``), what every reader shares (``patient``) and the dispatch by file kind (``files``).
"""
