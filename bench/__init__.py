"""Benchmarks of notes-service against its baselines, measured in the same run (`python -m bench`).

Shared 2-core machines make absolute numbers meaningless, so every figure that matters is a ratio to a
baseline measured in the same run, cases interleaved round by round, medians over rounds.
"""
