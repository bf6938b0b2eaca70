"""User-facing errors.

A `GankitError` is a mistake the user can fix (bad config, missing data, a run
directory without a checkpoint). The CLI prints its message without a
traceback and exits with status 2. Anything else is a bug in gankit and is
shown with its traceback.
"""

from __future__ import annotations

import difflib


class GankitError(Exception):
    """A problem with the user's input or environment, explained in plain words."""


def did_you_mean(word: str, choices) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' if none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""
