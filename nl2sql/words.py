"""Words of questions and schema names, as schema linking, value linking and key inference read them.
Pure functions."""

from __future__ import annotations

import re

STOP_WORDS = frozenset("""a an and are as at be by did do does each for from give had has have how i in is it its list
many me much of on or show that the their them there these this those to was were what when where which who
whom whose with find return tell all any than more most less least number name names""".split())
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def stem(word: str) -> str:
    """A crude English stem: plurals and a few suffixes off, so 'singers' meets 'singer'."""
    w = word.lower()
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh"), ("xes", "x")):
        if w.endswith(suffix) and len(w) > len(suffix) + 2:
            return w[: -len(suffix)] + repl
    if w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        w = w[:-1]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) > len(suffix) + 3:
            return w[: -len(suffix)]
    return w


def name_words(name: str) -> list[str]:
    """`StudentID`, `student_id`, `studentId` -> ['student', 'id'] (stemmed)."""
    return [stem(w) for part in re.split(r"[^A-Za-z0-9]+", name) for w in _CAMEL.findall(part) if w]


def question_words(question: str) -> set[str]:
    words = re.findall(r"[A-Za-z0-9]+", question)
    return {stem(w) for w in words if w.lower() not in STOP_WORDS} | {w.lower() for w in words}
