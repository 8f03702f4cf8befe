"""HL7 v2 adapter: ADT to first contacts over MLLP, acknowledgements, REF^I12 referrals."""
