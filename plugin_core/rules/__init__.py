"""Pure rules, no I/O: who is a child, which prompts and how urgent, decisions, routing, time."""
