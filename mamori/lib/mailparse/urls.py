"""URLs in text: defanged forms made whole again, link-protection rewrites unwrapped, hosts and IPs.

Defanged forms are what security-aware people and some gateways write so a link cannot be clicked:
``hxxps://evil[.]example[:]8443/``, ``evil(.)example``. Rewrites are what mail gateways put in front of
every link: Microsoft Safe Links (``…safelinks.protection.outlook.com/?url=<encoded>``), Proofpoint URL
Defense v1–v3, Google's and Barracuda's redirectors, Trend Micro's click-time protection.
"""

import base64
import binascii
import ipaddress
import re
from urllib.parse import parse_qs, unquote, urlsplit

DEFANGED = re.compile(
    r"h(?:xx|XX|\*\*|__)p(s?)(?=\[?:)|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\[:\]|\[://\]|\[/\]|\[@\]|\[at\]",
    re.IGNORECASE,
)
REFANGED = {"[.]": ".", "(.)": ".", "{.}": ".", "[dot]": ".", "(dot)": ".", "[:]": ":", "[://]": "://"}
REFANGED |= {"[/]": "/", "[@]": "@", "[at]": "@"}
# ASCII only: Japanese text runs straight on after a URL (「https://evil.example/にアクセス」).
URL = re.compile(r"(?:(?:https?|ftp)://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%()|]+", re.IGNORECASE)
# A host with a defanged dot and no scheme (「evil[.]example/login」), found before refanging.
DEFANGED_HOST = re.compile(
    r"(?<![\w.@/\-\])}])[A-Za-z0-9-]+(?:(?:\[\.\]|\(\.\)|\{\.\}|\[dot\]|\.)[A-Za-z0-9-]+)*(?:\[\.\]|\(\.\)|\{\.\}|\[dot\])"
    r"[A-Za-z]{2,}[A-Za-z0-9\-._~/?#@!$&*+,;=%]*",
    re.IGNORECASE,
)
TRAILING = ".,;:!?'\"*"
MAX_URL_LENGTH = 4_096
MAX_UNWRAP_LAYERS = 4


def refang(text: str) -> str:
    return DEFANGED.sub(
        lambda match: "http" + match.group(1) if match.group(0)[0] in "hH" else REFANGED[match.group(0).lower()], text
    )


def find_urls(text: str) -> list[str]:
    """URLs in ``text`` as written (defanged ones made whole), in order, repeats included."""
    found = []
    if "[" in text or "(" in text or "{" in text:
        found += ["http://" + trim(refang(match.group(0))) for match in DEFANGED_HOST.finditer(text)]
    if DEFANGED.search(text):
        text = refang(text)
    for match in URL.finditer(text):
        url = trim(match.group(0))
        if url.lower().startswith("www."):
            url = "http://" + url
        if len(url) > len("http://x.y"):
            found.append(url[:MAX_URL_LENGTH])
    return found


def trim(url: str) -> str:
    """Drop punctuation that ended the sentence, and closing brackets that were not opened in the URL."""
    while url:
        last = url[-1]
        if last not in TRAILING and not unopened_bracket(url, last):
            break
        url = url[:-1]
    return url


def unopened_bracket(url: str, last: str) -> bool:
    return (last == ")" and url.count("(") < url.count(")")) or (last == "]" and url.count("[") < url.count("]"))


def unwrap(url: str) -> str:
    """The destination behind link-protection rewrites (several layers deep), or ``url`` itself."""
    for _ in range(MAX_UNWRAP_LAYERS):
        inner = unwrap_once(url)
        if not inner or inner == url:
            return url
        url = inner
    return url


def unwrap_once(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    query = parse_qs(parts.query)
    if host.endswith(("safelinks.protection.outlook.com", "safelinks.protection.office365.us")):
        return first(query, "url")
    if host == "urldefense.proofpoint.com":
        if parts.path.startswith("/v2/"):
            encoded = first(query, "u")
            return unquote(encoded.replace("-", "%").replace("_", "/")) if encoded else None
        return first(query, "u")
    if host == "urldefense.com" and parts.path.startswith("/v3/__"):
        return proofpoint_v3(url)
    if host in ("www.google.com", "google.com", "www.google.co.jp") and parts.path == "/url":
        return first(query, "q") or first(query, "url")
    if host == "linkprotect.cudasvc.com":
        return first(query, "a")
    if host.endswith("trendmicro.com") and "clicktime" in parts.path:
        return first(query, "url")
    return None


def first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


PROOFPOINT_V3 = re.compile(r"/v3/__(?P<url>.+?)__;(?P<replacements>[^!]*)!!")
PROOFPOINT_RUN_LENGTHS = {
    character: index + 2
    for index, character in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}


def proofpoint_v3(url: str) -> str | None:
    """URL Defense v3: the URL sits between ``__`` markers with some characters replaced by ``*``.

    The replaced characters follow ``__;`` in URL-safe base64; ``*`` takes the next one, ``**X`` the next
    run of characters whose length X encodes.
    """
    match = PROOFPOINT_V3.search(url)
    if not match:
        return None
    encoded = match.group("replacements")
    try:
        replacements = iter(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None

    def restore(star: re.Match) -> str:
        if star.group(1) is None:
            return next(replacements, "")
        length = PROOFPOINT_RUN_LENGTHS.get(star.group(1)[-1], 0)
        return "".join(next(replacements, "") for _ in range(length))

    return re.sub(r"\*(\*.)?", restore, match.group("url"))


def host_of(url: str) -> str:
    """The URL's host, lower-case, without port or trailing dot; "" when it has none."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".").lower()


def ip_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
