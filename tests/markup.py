"""Finding things in the HTML the console answers, for assertions that say what is missing."""

import re


def find(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    """The first match of `pattern` in `text`; fails the test, showing the pattern, when there is none."""
    match = re.search(pattern, text, flags)
    assert match is not None, f"nothing matches {pattern!r}"
    return match
