"""Edges of ThinkFamily: HL7 v2, FHIR R4 and other transports, each registered as a plugin."""
