"""Where one `GET /api/notes` spends its time: the scripts behind docs/per-request.md.

Each runs from the repository root as a module, e.g. `python -m bench.per_request.layers`; the
docstring of each says what it measures and how to call it.
"""
