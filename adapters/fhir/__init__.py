"""FHIR R4 edge: client, mappings to a first contact, write-back, referral messages, CDS Hooks.

R4 resources are read and built with the ``fhir.resources.R4B`` models, which accept R4 content.
"""
