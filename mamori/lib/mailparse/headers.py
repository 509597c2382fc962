"""Header analysis: sender addresses and their disagreements, the Received chain, authentication verdicts."""

import datetime
import ipaddress
import re
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from mamori.lib.mailparse.results import (
    DISPLAY_NAME_MISMATCH,
    REPLY_TO_MISMATCH,
    RETURN_PATH_MISMATCH,
    AuthResults,
    ReceivedHop,
)

ADDRESS = re.compile(
    # Bounded (RFC 5321: local part ≤ 64, a handful of labels) so that long crafted text stays linear.
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,10}[A-Za-z]{2,63}"
)
MAX_ADDRESSES = 200


def address_and_name(value: str) -> tuple[str, str]:
    """(lower-cased address, display name) of a From-like header; the address is "" when there is none."""
    name, address = parseaddr(value)
    if not ADDRESS.fullmatch(address or ""):
        # parseaddr gives up on unquoted specials in names (「"山田, 太郎" <a@b>」 written without quotes).
        found = ADDRESS.findall(value)
        address = found[-1] if found else ""
        name = re.split(r"[<\[]", value, maxsplit=1)[0] if address else name
    return address.lower(), name.strip().strip("\"'").strip()


def address_list(value: str) -> list[str]:
    addresses = [address.lower() for _, address in getaddresses([value]) if ADDRESS.fullmatch(address)]
    return addresses or [address.lower() for address in ADDRESS.findall(value)]


def addresses_in(text: str) -> list[str]:
    found = []
    for match in ADDRESS.finditer(text):
        found.append(match.group(0).lower())
        if len(found) >= MAX_ADDRESSES:
            break
    return found


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower().rstrip(".")


# Second-level suffixes under which the organization is the third label (city.example.lg.jp is deeper).
TWO_LABEL_SUFFIXES = frozenset(
    {
        "co.jp",
        "ne.jp",
        "or.jp",
        "ac.jp",
        "go.jp",
        "ed.jp",
        "gr.jp",
        "ad.jp",
        "lg.jp",
        "co.uk",
        "ac.uk",
        "com.au",
        "com.cn",
        "com.tw",
        "com.hk",
        "co.kr",
        "com.br",
        "com.sg",
    }
)
# 地方公共団体 domains: city.<name>.lg.jp, pref.<name>.lg.jp — the organization is four labels long.
FOUR_LABEL_SUFFIXES = ("lg.jp",)


def organization_domain(domain: str) -> str:
    """An approximation of the registered domain (no public suffix list): enough to tell two senders apart."""
    labels = domain.lower().rstrip(".").split(".")
    suffix = ".".join(labels[-2:])
    if suffix in FOUR_LABEL_SUFFIXES and len(labels) >= 4 and labels[-4] in ("city", "town", "vill", "pref"):
        return ".".join(labels[-4:])
    keep = 3 if suffix in TWO_LABEL_SUFFIXES else 2
    return ".".join(labels[-keep:])


def sender_mismatches(from_address: str, from_name: str, reply_to: str, return_path: str) -> list[str]:
    """Which sender headers disagree with From (codes of results.py)."""
    if not from_address:
        return []
    own = organization_domain(domain_of(from_address))
    mismatches = []
    if reply_to and organization_domain(domain_of(reply_to)) != own:
        mismatches.append(REPLY_TO_MISMATCH)
    if return_path and organization_domain(domain_of(return_path)) != own:
        mismatches.append(RETURN_PATH_MISMATCH)
    if any(address.lower() != from_address for address in ADDRESS.findall(from_name)):
        mismatches.append(DISPLAY_NAME_MISMATCH)
    return mismatches


RECEIVED_FROM = re.compile(r"\bfrom\s+([^\s;()]+)", re.IGNORECASE)
RECEIVED_BY = re.compile(r"\bby\s+([^\s;()]+)", re.IGNORECASE)
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6 = re.compile(r"\[(?:IPv6:)?([0-9A-Fa-f:.]{0,45}:[0-9A-Fa-f:.]{0,45})\]")


def received_hop(value: str) -> ReceivedHop:
    route, _, stamp = value.rpartition(";")
    if not route:
        route, stamp = value, ""
    found_from = RECEIVED_FROM.search(route)
    found_by = RECEIVED_BY.search(route)
    return ReceivedHop(
        from_host=found_from.group(1).lower() if found_from else "",
        by_host=found_by.group(1).lower() if found_by else "",
        ips=tuple(dict.fromkeys(ips_in(route))),
        date=parse_date(stamp),
        raw=value[:2_000],
    )


def ips_in(text: str) -> list[str]:
    found = []
    for candidate in IPV4.findall(text) + IPV6.findall(text):
        try:
            found.append(str(ipaddress.ip_address(candidate)))
        except ValueError:
            continue
    return found


def is_public(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_global
    except ValueError:
        return False


def parse_date(value: str) -> datetime.datetime | None:
    """A Date-header timestamp, aware; None when unreadable. A missing zone is read as JST (+09:00)."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=JST)
    return moment


JST = datetime.timezone(datetime.timedelta(hours=9))
AUTH_VERDICT = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([A-Za-z]+)", re.IGNORECASE)
DKIM_DOMAIN = re.compile(r"\bheader\.d\s*=\s*([A-Za-z0-9.-]+)", re.IGNORECASE)


def auth_results(headers: list[str], received_spf: list[str]) -> AuthResults:
    """The verdicts of the topmost header naming each method (our gateway's; lower ones may be forged)."""
    verdicts: dict[str, str] = {}
    dkim_domains: list[str] = []
    for header in headers:
        for method, verdict in AUTH_VERDICT.findall(header):
            verdicts.setdefault(method.lower(), verdict.lower())
        dkim_domains += [domain.lower() for domain in DKIM_DOMAIN.findall(header)]
    if "spf" not in verdicts and received_spf:
        verdicts["spf"] = received_spf[0].strip().split(" ", 1)[0].lower()[:20]
    return AuthResults(
        spf=verdicts.get("spf", ""),
        dkim=verdicts.get("dkim", ""),
        dmarc=verdicts.get("dmarc", ""),
        dkim_domains=tuple(dict.fromkeys(dkim_domains)),
        raw=tuple(header[:2_000] for header in headers),
    )
