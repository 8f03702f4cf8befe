"""ThinkFamily's core: domain model, rules, trust configuration, plugin host and service."""
