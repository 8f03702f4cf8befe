"""The plugin host: the plugin manager, the built-in plugin list and the typed facade over the hooks."""
