"""Data access: every query lives here as `verb_noun(store, *, ...)`, scoped by owner.

Services read through the `Store` they are given and write only inside the write block their caller
opened (`async with store.write():`); they never commit. What they refuse, they raise as one of
`http/errors.py`'s exceptions, which say nothing about HTTP.
"""
