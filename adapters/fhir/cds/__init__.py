"""CDS Hooks service: discovery, hook calls answered with cards, and card feedback."""
