"""The trust configuration: section models, the one reader, and what the core reads.

``section`` (the base model and shared value types), ``faults`` and ``issues`` (what a check
reports), ``reader`` (TOML to models to issues), ``trust``, ``directory``, ``codes_file`` and
``relationships`` (each file's models), ``config`` and ``code_lists`` (the values the rest of
ThinkFamily reads), ``load`` (``load_trust_config``, ``check_trust_config``).
"""
