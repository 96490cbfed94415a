"""Data access: every query lives here as `verb_noun(session, *, ...)`, scoped by owner.

Services add and flush; the route that called them owns the transaction and commits once.
"""
