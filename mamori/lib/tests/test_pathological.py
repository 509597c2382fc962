"""Crafted inputs that made earlier regexes re-scan without bound (ReDoS); each must parse promptly.

Scaled up 20× by hand (≈ 0.5–2 MB each) these stay within seconds; the suite runs them at 1× to stay fast.
"""

import pytest

from mamori.lib.mailparse import parse_report

H = b"From: a@b.example\r\nContent-Type: text/plain; charset=utf-8\r\n"
cases = {
    "dots": H + b"\r\n" + b"a." * 20_000,
    "defang": H + b"\r\n" + b"a[.]" * 10_000,
    "defang2": H + b"\r\n" + b"a[.]1" * 8_000,
    "parens": H + b"\r\n" + b"https://x.example/" + b"(" * 20_000,
    "close": H + b"\r\n" + b"https://x.example/" + b")" * 4_000,
    "href": H.replace(b"plain", b"html") + b"\r\n" + b"<a href=" * 5_000,
    "tags": H.replace(b"plain", b"html") + b"\r\n" + b"<a " * 10_000,
    "script": H.replace(b"plain", b"html") + b"\r\n" + b"<script>" * 4_000,
    "comment": H.replace(b"plain", b"html") + b"\r\n" + b"<!--" * 8_000,
    "ew": b"Subject: " + b"=?utf-8?b?" * 2_000 + b"\r\n\r\nx",
    "ew2": b"Subject: " + b"=?utf-8?q?a?= " * 2_000 + b"\r\n\r\nx",
    "jis": H.replace(b"utf-8", b"iso-2022-jp") + b"\r\n" + b"\x1b$B" * 10_000,
    "addr": H + b"\r\n" + b"a@" * 20_000,
    "addr2": H + b"\r\n" + b"a.a-" * 10_000 + b"@",
    "from": H + b"\r\n" + b"From: x\n" * 4_000,
    "marker": H + b"\r\n" + b"-----Original Message-----\n" * 1_000,
    "subjects": H + b"\r\n" + (b"From: x\nSubject: y\nTo: z\n") * 1_000,
    "received": b"Received: " + b"from (" * 2_000 + b"\r\n\r\nx",
    "auth": b"Authentication-Results: " + b"spf=" * 4_000 + b"\r\n\r\nx",
    "ipv6": b"Received: " + b"[" + b":" * 10_000 + b"\r\n\r\nx",
    "ipv4": b"Received: " + b"1." * 10_000 + b"\r\n\r\nx",
    "date": H
    + b"\r\n"
    + b"-----Original Message-----\nFrom: a@b.example\nSent: "
    + b"2026 " * 2_000
    + b"\nSubject: x\n\n",
    "www": H + b"\r\n" + b"www." * 10_000,
    "hxxp": H + b"\r\n" + b"hxxp" * 10_000,
    "pct": H + b"\r\n" + b"https://x.example/c/" + b"%25" * 6_000,
}


@pytest.mark.parametrize("name", sorted(cases))
def test_pathological_input_parses(name):
    parsed = parse_report(cases[name])
    assert parsed.reported is not None or parsed.problems
