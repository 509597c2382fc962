"""Showing attacker-written indicators safely: defanged, so that nothing on a triage page is clickable."""

import re

SCHEME = re.compile(r"^(http|ftp)(s?)://", re.IGNORECASE)


def defang(value: str) -> str:
    """``https://evil.example/x`` → ``hxxps://evil[.]example/x``; addresses and IPs get ``[.]`` and ``[@]``.

    Only the scheme and the host part change: the path stays readable for the triager.
    """
    value = SCHEME.sub(lambda match: ("hxxp" if match[1].lower() == "http" else "fxp") + match[2] + "://", value)
    scheme, separator, rest = value.partition("://")
    if not separator:
        scheme, rest = "", value
    host, slash, path = rest.partition("/")
    return scheme + separator + host.replace(".", "[.]").replace("@", "[@]") + slash + path


URL_IN_TEXT = re.compile(r"\b(?:https?|ftps?)://[^\s<>\"'）」]+", re.IGNORECASE)


def defang_text(text: str) -> str:
    """Free text (a mail's excerpt) with every URL in it defanged, so that copying it opens nothing."""
    return URL_IN_TEXT.sub(lambda match: defang(match[0]), text)
