"""Drop-in names of other CLV libraries over ltvkit's own models and features.

:mod:`ltvkit.compat.lifetimes` gives lifetimes' fitters, utilities and plots, so that a lifetimes script runs
with only its import lines changed. Compat modules may import ``models`` and ``features``; neither imports them.
"""
