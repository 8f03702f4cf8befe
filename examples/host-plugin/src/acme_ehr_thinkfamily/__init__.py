"""The Acme EHR's ThinkFamily plugin, registered as ``acme-ehr`` in the ``thinkfamily`` group."""
