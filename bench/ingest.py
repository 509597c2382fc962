"""Reported mails per second through the pure path: parsing, drill matching and indicator extraction.

1. Builds a realistic mix of report mails (``--mails``, fixed ``--seed``) with the fixture builders of
   ``mamori.lib.tests.mails``: forwards as attachment and inline from Outlook, Thunderbird and Gmail
   (Japanese and English), reports of the mail itself (API, .eml upload), in ISO-2022-JP, Shift_JIS and
   UTF-8; most are drills, the rest real phish; some links rewritten by Safe Links or Proofpoint, some
   defanged; some with PDF or zip attachments; a few malformed.
2. Pins the process to one core.
3. Pure path per mail: ``parse_report``, ``drill_tokens``, a lookup of the tokens among ``--deliveries``
   known delivery tokens (what matching does in memory), and the extracted indicators as JSON (what is
   stored). Best of ``--rounds`` rounds over the whole mix.
4. Baseline, same run, same mails: ``email.message_from_bytes`` alone (the stdlib's compat32 parse, which
   reads structure but decodes nothing); ``policy.default`` with ``get_body()`` for reference.
5. Checks every drill mail matched its own delivery and no real phish matched any.

The last line is one JSON object with the figure, the baseline, the ratio and the target.
"""

import argparse
import base64
import email
import json
import os
import random
import sys
import time
from email import policy
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mamori.lib.mailparse import drill_tokens, parse_report
from mamori.lib.tests import mails

TARGET_MAILS_PER_SECOND = 200


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=3_000, help="report mails in the mix")
    parser.add_argument("--deliveries", type=int, default=100_000, help="known delivery tokens to match against")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds; the best counts")
    parser.add_argument("--seed", type=int, default=5)
    return parser.parse_args()


def token_of(random_source: random.Random) -> str:
    """A delivery token as ``secrets.token_urlsafe(16)`` makes them, but from the seeded source."""
    return base64.urlsafe_b64encode(random_source.randbytes(16)).rstrip(b"=").decode("ascii")


def pin_to_one_core() -> int:
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core


Mix = list[tuple[bytes, str | None, bool]]


def build_mix(count: int, random_source: random.Random, tokens: list[str]) -> Mix:
    """(raw report, its delivery token or None for a real phish, whether it is intact).

    A malformed mail (truncated, say) may have lost its link: it must never match a wrong delivery, but
    need not match its own.
    """
    mix = []
    for _ in range(count):
        is_drill = random_source.random() < 0.6
        token = random_source.choice(tokens) if is_drill else None
        url = mails.drill_url(random_source.choice("cqa"), token) if token else evil_url(random_source)
        shape = random_source.random()
        if shape < 0.3:
            url = mails.safe_link(url)
        elif shape < 0.4:
            url = mails.proofpoint_v2(url)
        elif shape < 0.45 and not token:
            url = url.replace("https://", "hxxps://").replace(".", "[.]")
        charset = random_source.choice(("iso-2022-jp", "iso-2022-jp", "shift_jis", "utf-8"))
        files = attachments(random_source)
        way = random_source.random()
        if way < 0.35:
            original = mails.original(url=url, charset=charset, attachments=files, reply_to=reply_to(random_source))
            raw = mails.forward_as_attachment(
                original, client=random_source.choice(("outlook", "thunderbird", "gmail"))
            )
        elif way < 0.8:
            raw = mails.forward_inline(
                client=random_source.choice(("outlook", "thunderbird", "gmail")),
                language=random_source.choice(("ja", "ja", "en")),
                url=url,
                charset=charset,
                html=random_source.random() < 0.7,
                attachments=files,
            )
        elif way < 0.95:
            raw = mails.original(url=url, charset=charset, attachments=files, drill_header=token)
        else:
            raw = malformed(mails.original(url=url, charset=charset), random_source)
        mix.append((raw, token, way < 0.95))
    return mix


def evil_url(random_source: random.Random) -> str:
    host = random_source.choice(("evil-bank.example", "login-microsoft.example", "kuroneko-delivery.example"))
    return f"https://{random_source.randbytes(3).hex()}.{host}/{token_of(random_source)[:10]}/login.php"


def reply_to(random_source: random.Random) -> str:
    return "collect@another.example" if random_source.random() < 0.3 else ""


def attachments(random_source: random.Random) -> list[tuple[str, bytes]]:
    chance = random_source.random()
    if chance < 0.1:
        return [("請求書.pdf", b"%PDF-1.7\n" + random_source.randbytes(random_source.randint(20_000, 200_000)))]
    if chance < 0.15:
        return [("請求書.zip", mails.zip_of({"請求書.exe": random_source.randbytes(30_000)}, cp932_names=True))]
    return []


def malformed(raw: bytes, random_source: random.Random) -> bytes:
    """A truncated, a boundary-less or a mislabeled variant, as broken mailers and gateways send them."""
    kind = random_source.randrange(3)
    if kind == 0:
        return raw[: len(raw) * 2 // 3]
    if kind == 1:
        return raw.replace(b"boundary=", b"boundry=")
    return raw.replace(b'charset="iso-2022-jp"', b'charset="iso-8859-1"')


def pure_path(mix: Mix, known: dict[str, int]) -> tuple[float, list[int | None]]:
    matched: list[int | None] = []
    started = time.perf_counter()
    for raw, *_ in mix:
        parsed = parse_report(raw)
        delivery = next((known[token] for token in drill_tokens(parsed) if token in known), None)
        json.dumps(parsed.as_dict(), ensure_ascii=False)
        matched.append(delivery)
    return time.perf_counter() - started, matched


def stdlib_parse(mix: Mix) -> float:
    started = time.perf_counter()
    for raw, *_ in mix:
        email.message_from_bytes(raw)
    return time.perf_counter() - started


def stdlib_default_policy(mix: Mix) -> float:
    started = time.perf_counter()
    for raw, *_ in mix:
        message = email.message_from_bytes(raw, policy=policy.default)
        message.get_body()
    return time.perf_counter() - started


def wrongly_matched(token: str | None, intact: bool, delivery: int | None, known: dict[str, int]) -> bool:
    if token is None:
        return delivery is not None
    return delivery != known[token] and (intact or delivery is not None)


def main() -> None:
    arguments = parse_args()
    core = pin_to_one_core()
    random_source = random.Random(arguments.seed)
    tokens = [token_of(random_source) for _ in range(arguments.deliveries)]
    known = {token: index for index, token in enumerate(tokens)}
    mix = build_mix(arguments.mails, random_source, tokens)
    size = sum(len(raw) for raw, *_ in mix)
    drills = sum(token is not None for _, token, _ in mix)
    print(f"mix: {len(mix)} mails, {size / 1e6:.1f} MB, {drills} drills; core {core}")
    ours, matched = min(pure_path(mix, known) for _ in range(arguments.rounds))
    baseline = min(stdlib_parse(mix) for _ in range(arguments.rounds))
    default_policy = min(stdlib_default_policy(mix) for _ in range(arguments.rounds))
    wrong = sum(
        wrongly_matched(token, intact, delivery, known)
        for (_, token, intact), delivery in zip(mix, matched, strict=True)
    )
    rate, baseline_rate = len(mix) / ours, len(mix) / baseline
    print(f"pure path: {rate:,.0f} mails/s ({ours * 1e3 / len(mix):.2f} ms a mail)")
    print(f"baseline email.message_from_bytes: {baseline_rate:,.0f} mails/s")
    print(f"reference policy.default + get_body(): {len(mix) / default_policy:,.0f} mails/s")
    print(f"wrong matches (a drill to another delivery or to none, a phish to any): {wrong}")
    print(
        json.dumps(
            {
                "bench": "ingest",
                "mails": len(mix),
                "megabytes": round(size / 1e6, 1),
                "mails_per_s": round(rate, 1),
                "baseline": "email.message_from_bytes (compat32), same mails",
                "baseline_mails_per_s": round(baseline_rate, 1),
                "ratio": round(rate / baseline_rate, 3),
                "policy_default_mails_per_s": round(len(mix) / default_policy, 1),
                "target_mails_per_s": TARGET_MAILS_PER_SECOND,
                "mismatched": wrong,
                "ok": rate >= TARGET_MAILS_PER_SECOND and wrong == 0,
            }
        )
    )


if __name__ == "__main__":
    main()
