"""Built-in plugins, registered by name from ``DEFAULT_PLUGINS`` like any host's own."""
