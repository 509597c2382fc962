"""Finding mamori drill delivery tokens in a parsed report."""

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import unquote

from mamori.lib.mailparse.results import ParsedReport

# The path prefixes of mamori.drills.links (and the learning pages under /l/<token>/).
DRILL_LINK_PREFIXES = ("c", "q", "a", "x", "o", "l", "cf")
# secrets.token_urlsafe(16): 22 characters of the URL-safe base64 alphabet.
DELIVERY_TOKEN_PATTERN = r"[A-Za-z0-9_-]{22}"  # noqa: S105 (a pattern, not a secret)
DRILL_HEADER = "X-Mamori-Drill"
MAX_UNQUOTING = 3


def drill_tokens(
    parsed: ParsedReport,
    prefixes: Iterable[str] = DRILL_LINK_PREFIXES,
    token_pattern: str = DELIVERY_TOKEN_PATTERN,
) -> list[str]:
    """Delivery tokens found in the reported message, most frequent first (then first seen).

    Looks in every URL path ``/<prefix>/<token>`` (also inside gateway-rewritten URLs, percent-encoded
    once or several times, as an unknown rewriter leaves them), in ``X-Mamori-Drill`` headers, and in links
    the reporter pasted into their own text of the forward.
    Candidates only: the caller checks them against its deliveries.
    """
    in_paths = token_in_path(tuple(prefixes), token_pattern)
    whole = re.compile(token_pattern)
    found: Counter[str] = Counter()
    for value in parsed.reported.drill_headers:
        if whole.fullmatch(value.strip()):
            found[value.strip()] += 1
    for url in [*parsed.reported.urls, *parsed.reported.rewritten_urls, *parsed.envelope.urls]:
        for form in unquoted_forms(url):
            found.update(in_paths.findall(form))
    # Counter keeps first-seen order among equal counts.
    return [token for token, _ in found.most_common()]


@lru_cache(maxsize=16)
def token_in_path(prefixes: tuple[str, ...], token_pattern: str) -> re.Pattern:
    alternatives = "|".join(re.escape(prefix.strip("/")) for prefix in prefixes)
    return re.compile(rf"/(?:{alternatives})/({token_pattern})(?![A-Za-z0-9_-])")


def unquoted_forms(url: str) -> list[str]:
    """The URL and its percent-decoded forms, each distinct one once (encoded ``/`` hides the path)."""
    forms = [url]
    for _ in range(MAX_UNQUOTING):
        decoded = unquote(forms[-1])
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    return forms
