"""Data access: every query lives here as `verb_noun(store, *, ...)`, scoped by owner.

Services read through the `Store` they are given and write only inside the write block their caller
opened (`async with store.write():`); they never commit. What they refuse, they raise as one of
`services/errors.py`'s exceptions, which say nothing about HTTP (`http/errors.py` maps them).

They know nothing of HTTP or of the settings (tests/services/test_boundaries.py): routes hand them
plain values (a hasher, a secret box, a lifetime, a base URL) and map the typed rows they return
(`services/rows.py`, or beside the one service that returns them) to the API's shapes
(`http/shapes.py`).
"""
