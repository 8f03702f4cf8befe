"""``python -m plugin_core.cli``: the same as the ``thinkfamily`` command."""

from plugin_core.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
