"""Writing outcomes: the command line's formats (``formats``: text, JSON, NDJSON, CSV, Turtle, TriG),
Jupyter cards (``html``) and derivation pictures (``plot``).
"""
