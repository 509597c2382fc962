"""Property tests: whatever the bytes, parsing returns a report, and a drill link survives MIME wrapping.

Inputs that once broke the parser are pinned with ``@example`` and kept in ``nasty/``.
"""

import base64
import html
import json
import quopri
import unittest
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mamori.lib.mailparse import UNPARSEABLE, ParsedReport, drill_tokens, parse_report
from mamori.lib.tests import mails

SEEDS = [
    mails.original(),
    mails.forward_as_attachment(mails.original()),
    mails.forward_inline(),
    mails.forward_inline(client="thunderbird", html=False),
    *(path.read_bytes() for path in sorted((Path(__file__).parent / "nasty").glob("*.eml"))),
]
FRAGMENTS = [
    b"\r\n",
    b"\r\n\r\n",
    b"--",
    b"=?",
    b"?=",
    b"=?iso-2022-jp?B?GyRC?=",
    b"\x1b$B",
    b"\x1b(B",
    b'Content-Type: multipart/mixed; boundary="z"\r\n',
    b"Content-Type: message/rfc822\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"charset=shift_jis",
    b"filename*=utf-8''%E3%81",
    b"-------- \xe8\xbb\xa2\xe9\x80\x81\xe3\x83\xa1\xe3\x83\x83\xe3\x82\xbb\xe3\x83\xbc\xe3\x82\xb8 --------\r\n",
    b"From: <a@b.example>\r\nSubject: x\r\nDate: y\r\n",
    b"hxxps://evil[.]example/",
    b"https://apc01.safelinks.protection.outlook.com/?url=https%3A%2F%2F",
    b"https://urldefense.com/v3/__https://x.example/*__;!!",
    b"<a href='",
    b"PK\x03\x04",
    b"\x00",
    b"\xff\xfe",
]
FUZZ = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def assert_parses(raw: bytes) -> ParsedReport:
    """Parsed, serialisable, and not by the catch-all: UNPARSEABLE would mean a parser bug was swallowed."""
    parsed = parse_report(raw)
    assert isinstance(parsed, ParsedReport)
    assert UNPARSEABLE not in parsed.problems
    json.dumps(parsed.as_dict())
    drill_tokens(parsed)
    return parsed


@st.composite
def mutated_mails(draw) -> bytes:
    """A real-looking mail with slices cut, repeated, or replaced by fragments that upset MIME parsers."""
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        start = draw(st.integers(0, len(raw)))
        end = draw(st.integers(start, min(len(raw), start + 200)))
        action = draw(st.sampled_from(("cut", "insert", "repeat", "bytes")))
        if action == "cut":
            del raw[start:end]
        elif action == "insert":
            raw[start:start] = draw(st.sampled_from(FRAGMENTS))
        elif action == "repeat":
            raw[start:start] = raw[start:end] * draw(st.integers(2, 20))
        else:
            raw[start:end] = draw(st.binary(max_size=40))
    return bytes(raw)


TEXT = st.text(alphabet=st.sampled_from("あいう漢字カナ①～ abc\n<>=?\"'.:/-_%"), max_size=60) | st.sampled_from(
    ["", "\r\n", "=?utf-8?b?", "-----Original Message-----\n"]
)


@st.composite
def mime_trees(draw, depth: int = 0) -> tuple[bytes, bool]:
    """A MIME part (headers and body) and whether a drill link sits in a decodable text part inside it."""
    kind = draw(st.sampled_from(("text", "text", "html", "binary", "multipart", "message") if depth < 4 else ("text",)))
    if kind == "multipart":
        children = draw(st.lists(mime_trees(depth + 1), min_size=0, max_size=4))
        boundary = f"b{depth}x{draw(st.integers(0, 999))}".encode()
        body = (
            b"".join(b"--" + boundary + b"\r\n" + child + b"\r\n" for child, _ in children) + b"--" + boundary + b"--"
        )
        head = b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n'
        return head + body, any(found for _, found in children)
    if kind == "message":
        child, found = draw(mime_trees(depth + 1))
        return b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n" + child, found
    if kind == "binary":
        return (
            b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.b64encode(draw(st.binary(max_size=200))),
            False,
        )
    with_link = draw(st.booleans())
    before, after = draw(TEXT), draw(TEXT)
    if kind == "html":
        link = f'<a href="{mails.drill_url()}">確認</a>'
        before, after = html.escape(before), html.escape(after)
    else:
        link = f" {mails.drill_url()} "
    text = before + (link if with_link else "") + after
    charset = draw(st.sampled_from(("utf-8", "iso-2022-jp", "shift_jis", "euc-jp")))
    data = text.encode(
        {"iso-2022-jp": "iso2022_jp_2004", "shift_jis": "cp932", "euc-jp": "euc_jis_2004"}.get(charset, "utf-8"),
        "replace",
    )
    encoding = draw(st.sampled_from(("8bit", "base64", "quoted-printable")))
    body = {"base64": base64.encodebytes, "quoted-printable": quopri.encodestring}.get(encoding, bytes)(data)
    subtype = "html" if kind == "html" else "plain"
    head = f'Content-Type: text/{subtype}; charset="{charset}"\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n'
    return head.encode() + body, with_link


class FuzzTests(unittest.TestCase):
    @FUZZ
    @given(st.binary(max_size=4_000))
    @example(b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!")
    @example(b"Subject: =?iso-2022-jp?B?GyRC?= =?iso-2022-jp?Q?=1B=24B=?=\r\n\r\n\x1b$B")
    # Found by the fuzzer: a NUL in an encoded word's charset name made str.decode raise ValueError.
    @example(b'From: "=?\x00utf-8?b?5pS/5bqc?=" <a@b.example>\r\n\r\nx')
    # Found by the fuzzer: 8-bit bytes in the body of a base64-encoded message/rfc822 part.
    @example(
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n'
        b"Content-Transfer-Encoding: base64\r\xff\xfe\n\r\nRnJvbTog\r\n--b--\r\n"
    )
    def test_it_never_raises_on_arbitrary_bytes(self, raw):
        assert_parses(raw)

    @FUZZ
    @given(mutated_mails())
    def test_it_never_raises_on_mutated_mails(self, raw):
        assert_parses(raw)

    @FUZZ
    @given(mime_trees())
    def test_it_finds_a_drill_link_in_any_text_part_of_a_mime_tree(self, tree):
        part, has_link = tree
        raw = b"From: a@evil.example\r\nDate: Tue, 24 Nov 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n" + part

        parsed = assert_parses(raw)

        if has_link:
            self.assertIn(mails.TOKEN, drill_tokens(parsed))
