"""HTML bodies as plain text with their link targets written in, by regular expressions.

A real HTML parser costs more than the whole rest of a report's parsing, and we need only two things from
the HTML: the text a person saw (to find an inline forward's header block) and every URL it points to
(href, src, action). So each such attribute's value is written into the text where its tag stood, then
the tags are dropped: ``<a href="https://evil.example/">銀行</a>`` becomes `` https://evil.example/ 銀行``.
"""

import html
import re

HIDDEN_BLOCK_START = re.compile(r"<!--|<(script|style|head|title)\b[^<>]{0,2000}>", re.IGNORECASE)
LINK_ATTRIBUTE = re.compile(
    r"""\s(?:href|src|action|background|data-saferedirecturl)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""",
    re.IGNORECASE,
)
BLOCK_TAG = re.compile(r"<(?:br|/?p|/?div|/?tr|/?li|/?h[1-6]|/?blockquote|/?table|hr)\b[^>]*>", re.IGNORECASE)
TAG = re.compile(r"</?[A-Za-z!?][^<>]{0,4000}>")  # as browsers do: "< x" and "a<b" are text
LINK_TAG = re.compile(
    r"<[a-z][^<>]{0,2000}?\s(?:href|src|action|background|data-saferedirecturl)\s*=[^<>]{0,4000}>", re.IGNORECASE
)
SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
BLANK_LINES = re.compile(r"\n\s*\n\s*(?:\n\s*)+")


def html_to_text(markup: str) -> str:
    """The visible text of ``markup`` with link targets inlined, one block element a line."""
    markup = without_hidden_blocks(markup)
    markup = LINK_TAG.sub(links_of_tag, markup)
    markup = BLOCK_TAG.sub("\n", markup)
    text = html.unescape(TAG.sub("", markup))
    text = SPACES.sub(" ", text)
    return BLANK_LINES.sub("\n\n", text)


def links_of_tag(match: re.Match) -> str:
    tag = match.group(0)
    targets = [
        html.unescape(next(value for value in found if value)) for found in LINK_ATTRIBUTE.findall(tag) if any(found)
    ]
    # Kept as a tag of its own so BLOCK_TAG still sees a <div …> that carried a background image.
    return (
        " "
        + " ".join(target.replace("<", "%3C").replace(">", "%3E") for target in targets)
        + " "
        + tag_without_links(tag)
    )


def tag_without_links(tag: str) -> str:
    return LINK_ATTRIBUTE.sub("", tag)


def without_hidden_blocks(markup: str) -> str:
    """Drop comments and script/style/head/title blocks in one pass (a regex with ``.*?`` goes quadratic on
    thousands of unclosed ``<script>`` or ``<!--``; this loop looks for each closing tag once)."""
    kept: list[str] = []
    position = 0
    lowered = markup.lower()
    while (start := HIDDEN_BLOCK_START.search(markup, position)) is not None:
        kept.append(markup[position : start.start()])
        closing = "-->" if start.group(1) is None else f"</{start.group(1).lower()}"
        end = lowered.find(closing, start.end())
        if end == -1:
            position = len(markup)  # unclosed: the rest is hidden, as a browser would treat it
            break
        close_end = markup.find(">", end) if closing.startswith("</") else end + len(closing) - 1
        position = (close_end + 1) if close_end != -1 else len(markup)
        kept.append(" ")
    kept.append(markup[position:])
    return "".join(kept)
