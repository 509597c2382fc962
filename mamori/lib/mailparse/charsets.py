"""Turning bytes of unknown or mislabeled charset into text, the Japanese way.

Japanese mail comes as ISO-2022-JP (JIS), Shift_JIS (in practice Windows' CP932), EUC-JP or UTF-8, and is
often mislabeled: Windows writes NEC special characters (①, ㈱) into mail labeled ISO-2022-JP or
Shift_JIS, old mailers send 8-bit Shift_JIS with no label or with "iso-8859-1". So a label is a first
guess, checked by a strict decode, never trusted blindly.
"""

import binascii
import re
from dataclasses import dataclass

ESCAPE_SEQUENCE = b"\x1b$"
SHIFT_JIS_LABELS = frozenset({"shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j"})
# Labels that say nothing about Japanese text: 8-bit bytes under them get guessed.
VAGUE_LABELS = frozenset({"", "us-ascii", "ascii", "iso-8859-1", "latin1", "latin-1", "windows-1252", "unknown-8bit"})


@dataclass(frozen=True)
class Decoded:
    """Text and how sure we are of it: ``guessed`` when the label was wrong or missing, ``lossy`` when some
    bytes fit no charset and became U+FFFD."""

    text: str
    guessed: bool = False
    lossy: bool = False


def decode_bytes(data: bytes, label: str | None) -> Decoded:
    """Decode ``data`` labeled ``label`` (a MIME charset name or None)."""
    if data.isascii() and ESCAPE_SEQUENCE not in data:
        return Decoded(data.decode("ascii"))
    wanted = normalise_label(label)
    if wanted in VAGUE_LABELS or (ESCAPE_SEQUENCE in data and not wanted.startswith("iso-2022-jp")):
        return guess(data)
    text = strict(data, wanted)
    if text is not None:
        return Decoded(text)
    if wanted.startswith("iso-2022-jp"):
        text, lossy = jis_via_cp932(data)
        return Decoded(text, lossy=lossy)
    return guess(data)


def normalise_label(label: str | None) -> str:
    wanted = (label or "").strip().strip("\"'").lower()
    if wanted in SHIFT_JIS_LABELS:
        # CP932 is Shift_JIS as Windows writes it (NEC/IBM extensions, ～ as U+FF5E): what senders mean.
        return "cp932"
    return wanted


def strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (ValueError, LookupError, TypeError):  # ValueError also for a label with a NUL in it
        return None


def guess(data: bytes) -> Decoded:
    """The likeliest of UTF-8, ISO-2022-JP, CP932 and EUC-JP for unlabeled or mislabeled bytes.

    1. Escape sequences and no 8-bit bytes mean JIS (ISO-2022-JP).
    2. Strict UTF-8 almost never succeeds by accident: take it when it does.
    3. CP932 and EUC-JP both often decode the other's bytes without error; the one giving more kana and
       kanji (and fewer half-width katakana, which EUC-JP read as CP932 turns into) wins.
    """
    if ESCAPE_SEQUENCE in data and data.isascii():
        text, lossy = jis_via_cp932(data)
        return Decoded(text, guessed=True, lossy=lossy)
    text = strict(data, "utf-8")
    if text is not None:
        return Decoded(text, guessed=True)
    candidates = [text for text in (strict(data, "cp932"), strict(data, "euc_jp")) if text is not None]
    if candidates:
        return Decoded(max(candidates, key=japanese_score), guessed=True)
    return Decoded(data.decode("cp932", errors="replace"), guessed=True, lossy=True)


KANA_AND_KANJI = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
HALF_WIDTH_KATAKANA = re.compile(r"[\uff61-\uff9f]")


def japanese_score(text: str) -> int:
    return len(KANA_AND_KANJI.findall(text)) - 2 * len(HALF_WIDTH_KATAKANA.findall(text))


def jis_via_cp932(data: bytes) -> tuple[str, bool]:
    """ISO-2022-JP decoded by turning its JIS X 0208 pairs into Shift_JIS and reading those as CP932.

    Python's iso2022_jp codec rejects the NEC special characters (row 13: ①, ㈱, №) and IBM extensions
    that Windows puts into mail labeled ISO-2022-JP (really CP50220); CP932 knows them. Returns the text
    and whether some bytes had to be replaced.
    """
    out = bytearray()
    mode = "ascii"
    index = 0
    length = len(data)
    while index < length:
        byte = data[index]
        if byte == 0x1B:
            sequence = data[index + 1 : index + 3]
            if sequence in (b"$B", b"$@"):
                mode, index = "jis", index + 3
                continue
            if sequence in (b"(B", b"(J"):
                mode, index = "ascii", index + 3
                continue
            if sequence == b"(I":
                mode, index = "kana", index + 3
                continue
        if byte in (0x0A, 0x0D):
            # A line end always ends a JIS run (RFC 1468), even when the closing escape is missing.
            mode = "ascii"
            out.append(byte)
        elif mode == "jis" and index + 1 < length:
            out += jis_pair_as_shift_jis(byte, data[index + 1])
            index += 1
        elif mode == "kana" and 0x21 <= byte <= 0x5F:
            out.append(byte + 0x80)
        else:
            out.append(byte)
        index += 1
    text = out.decode("cp932", errors="replace")
    return text, "\ufffd" in text


def jis_pair_as_shift_jis(first: int, second: int) -> bytes:
    if not (0x21 <= first <= 0x7E and 0x21 <= second <= 0x7E):
        return b"?"
    lead = ((first + 1) >> 1) + (0x70 if first <= 0x5E else 0xB0)
    # Odd rows take the lower half of the trail byte range (skipping 0x7F), even rows the upper half.
    trail = second + (0x1F if second <= 0x5F else 0x20) if first % 2 else second + 0x7E
    return bytes((lead, trail))


ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
FOLDING = re.compile(r"\r?\n(?=[ \t])")


def decode_header(value: str) -> Decoded:
    """A raw header value (8-bit bytes kept as surrogate escapes, as the stdlib's compat32 gives it) as text.

    Encoded words are decoded leniently: adjacent words of one charset are joined before decoding, since
    Japanese mailers split a multi-byte character, or an ISO-2022-JP escape run, across two words.
    """
    value = FOLDING.sub("", value)
    if "=?" not in value:
        return decode_raw_header(value)
    # (charset, bytes) runs; charset "" is text outside encoded words, kept as the bytes it came as.
    pieces: list[tuple[str, bytes]] = []
    position = 0
    for match in ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        previous_is_word = bool(pieces) and pieces[-1][0] != ""
        if between and not (previous_is_word and between.isspace()):
            pieces.append(("", raw_bytes(between)))
        charset, encoding, payload = match.group(1).lower(), match.group(2).upper(), match.group(3)
        data = word_bytes(encoding, payload)
        if pieces and pieces[-1][0] == charset:
            pieces[-1] = (charset, pieces[-1][1] + data)
        else:
            pieces.append((charset, data))
        position = match.end()
    if position < len(value):
        pieces.append(("", raw_bytes(value[position:])))
    guessed = lossy = False
    texts = []
    for charset, data in pieces:
        decoded = decode_bytes(data, charset) if charset else decode_raw_bytes(data)
        guessed, lossy = guessed or decoded.guessed, lossy or decoded.lossy
        texts.append(decoded.text)
    return Decoded("".join(texts), guessed, lossy)


def word_bytes(encoding: str, payload: str) -> bytes:
    raw = payload.encode("ascii", "replace")
    if encoding == "Q":
        return QP_ESCAPE.sub(lambda match: bytes((int(match.group(1), 16),)), raw.replace(b"_", b" "))
    try:
        return binascii.a2b_base64(raw + b"=" * (-len(raw) % 4))
    except binascii.Error:
        return b""


def decode_raw_header(value: str) -> Decoded:
    """A header text without encoded words; 8-bit bytes in it (raw Shift_JIS, UTF-8) are guessed."""
    if value.isascii() and "\x1b" not in value:
        return Decoded(value)
    return decode_raw_bytes(raw_bytes(value))


def decode_raw_bytes(data: bytes) -> Decoded:
    """Header bytes outside encoded words: raw UTF-8 is allowed there (RFC 6532), anything else is guessed."""
    if ESCAPE_SEQUENCE in data:
        return guess(data)  # unencoded ISO-2022-JP, as old Japanese mailers wrote headers
    if data.isascii():
        return Decoded(data.decode("ascii"))
    text = strict(data, "utf-8")
    return Decoded(text) if text is not None else guess(data)


def raw_bytes(text: str) -> bytes:
    """The bytes behind a string from the stdlib parser (8-bit bytes kept as surrogate escapes).

    Text that never was bytes (a str input, a lone surrogate from a broken escape) is written as UTF-8.
    """
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")
