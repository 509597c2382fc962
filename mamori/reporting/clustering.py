"""Similarity keys of reported mail, so that one phish reported by many staff becomes one triage item.

Three signals are compared: the normalised subject, the sender address and the set of URLs (host and
path, without query or fragment: per-recipient tracking parameters must not split a campaign). Two reports
are near-identical when at least two of the three agree; attackers vary one of them (subject per target,
botnet senders, rotating URLs) far more often than two.
"""

import re
import unicodedata
from urllib.parse import urlsplit

SUBJECT_KEY_LENGTH = 200
MAX_URL_KEYS = 50
URL_SIMILARITY = 0.5
SIGNALS_TO_JOIN = 2

# Reply/forward prefixes (English, German, French, Spanish, Japanese clients) and gateway tags such as
# [EXTERNAL], [SPAM?] or 【外部】 that staff's mail systems put in front of the original subject.
SUBJECT_PREFIX = re.compile(
    r"^(?:\s*(?:re|fw|fwd|aw|wg|tr|rv|sv|vs|返信|転送)\s*:\s*|\s*\[[^\]]{0,40}\]\s*|\s*【[^】]{0,40}】\s*)+",
    re.IGNORECASE,
)
DIGITS = re.compile(r"\d+")
SPACES = re.compile(r"\s+")


def subject_key(subject: str) -> str:
    """The subject without prefixes and tags, case- and width-folded, numbers replaced by ``#``."""
    text = unicodedata.normalize("NFKC", subject or "").casefold()
    text = SUBJECT_PREFIX.sub("", text)
    text = DIGITS.sub("#", text)
    return SPACES.sub(" ", text).strip()[:SUBJECT_KEY_LENGTH]


def sender_key(address: str) -> str:
    return (address or "").strip().lower()[:254]


def url_keys(urls: list[str]) -> list[str]:
    """Host and path of each URL, lower-cased host, sorted and capped."""
    keys = set()
    for url in urls:
        try:
            parts = urlsplit(url)
        except ValueError:
            continue
        if parts.hostname:
            keys.add(f"{parts.hostname.lower()}{parts.path.rstrip('/')}")
    return sorted(keys)[:MAX_URL_KEYS]


def url_similarity(left: list[str], right: list[str]) -> float:
    """Jaccard similarity of two URL key sets; 0 when either is empty (no evidence either way)."""
    if not left or not right:
        return 0.0
    a, b = set(left), set(right)
    return len(a & b) / len(a | b)


def agreeing_signals(
    subject: str, sender: str, urls: list[str], other_subject: str, other_sender: str, other_urls: list[str]
) -> int:
    """How many of the three signals agree (an empty value never agrees)."""
    return (
        bool(subject and subject == other_subject)
        + bool(sender and sender == other_sender)
        + bool(url_similarity(urls, other_urls) >= URL_SIMILARITY)
    )
