"""Marking a scenario's red-flag cues on the mail as the person received it.

Each cue's ``excerpt`` is looked for in the sender line, the subject and the text body (in that order);
its first occurrence that does not overlap an earlier cue's is wrapped in ``<mark>`` with the cue's
number, and the cues are listed as numbered notes below the mail. Everything else is escaped: the mail's
text is administrator-authored and carries recipient data. A line break inside a quoted excerpt is
tolerated (the body may wrap where the author's excerpt does not).
"""

import re
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

# Where cues are searched, in order: a cue about the sender's address is marked on the sender line.
PARTS = ("sender", "subject", "text")
MARK = '<mark class="cue" id="cue-mark-{0}">{1}</mark><sup class="cue-number"><a href="#cue-{0}">{0}</a></sup>'


@dataclass(frozen=True)
class MarkedCue:
    number: int
    label: str
    detail: str
    excerpt: str
    found: bool


@dataclass(frozen=True)
class MarkedMail:
    sender: SafeString
    subject: SafeString
    text: SafeString
    cues: list[MarkedCue]


def excerpt_pattern(excerpt: str) -> re.Pattern | None:
    """A pattern matching ``excerpt`` with any white space (line breaks too) between its characters."""
    characters = [character for character in excerpt if not character.isspace()]
    if not characters:
        return None
    return re.compile(r"\s*".join(re.escape(character) for character in characters))


def overlaps(spans: list[tuple[int, int, int]], start: int, end: int) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end, _ in spans)


def find_span(pattern: re.Pattern, texts: dict[str, str], spans: dict[str, list]) -> tuple[str, int, int] | None:
    """The first occurrence of ``pattern``, part by part, that no earlier cue has marked."""
    for part in PARTS:
        for match in pattern.finditer(texts[part]):
            if not overlaps(spans[part], match.start(), match.end()):
                return part, match.start(), match.end()
    return None


def marked_html(text: str, spans: list[tuple[int, int, int]]) -> SafeString:
    """``text`` escaped, with each span wrapped in a numbered ``<mark>`` linking to its note."""
    pieces = []
    position = 0
    for start, end, number in sorted(spans):
        pieces.append(escape(text[position:start]))
        pieces.append(format_html(MARK, number, text[start:end]))
        position = end
    pieces.append(escape(text[position:]))
    return mark_safe("".join(pieces))  # noqa: S308 — every piece is escaped above


def mark_cues(*, sender: str, subject: str, text: str, cues: list) -> MarkedMail:
    """The mail's parts as HTML with the cues marked, and the cues numbered for the notes."""
    texts = {"sender": sender, "subject": subject, "text": text}
    spans: dict[str, list[tuple[int, int, int]]] = {part: [] for part in PARTS}
    marked = []
    for number, cue in enumerate((cue for cue in cues if isinstance(cue, dict)), start=1):
        excerpt = str(cue.get("excerpt") or "").strip()
        pattern = excerpt_pattern(excerpt)
        found = find_span(pattern, texts, spans) if pattern else None
        if found:
            part, start, end = found
            spans[part].append((start, end, number))
        marked.append(
            MarkedCue(
                number=number,
                label=str(cue.get("label") or ""),
                detail=str(cue.get("detail") or ""),
                excerpt=excerpt,
                found=found is not None,
            )
        )
    return MarkedMail(
        sender=marked_html(sender, spans["sender"]),
        subject=marked_html(subject, spans["subject"]),
        text=marked_html(text, spans["text"]),
        cues=marked,
    )
