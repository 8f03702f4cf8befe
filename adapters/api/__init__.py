"""The JSON API for hosts without CDS Hooks, at ``/api``: a built-in plugin that can be blocked."""
