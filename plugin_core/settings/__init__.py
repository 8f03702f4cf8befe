"""The trust configuration: loading, checking and the values the rest of the core reads."""
