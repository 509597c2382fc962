import codecs
import io
import re

import docx
from django.test import SimpleTestCase

from mamori.drills.attachments import (
    LINK_LEAD,
    build_attachment,
    validate_attachment_name,
)

LINK = "https://drill.example.jp/a/Zx8-tOkEn_123"
BODY = "{org} 御中\n\n下記のとおりご請求申し上げます。\n\nご請求金額　1,188,000円（税込）".format(org="デモ区")


def pdf_shown_text(content: bytes) -> list[str]:
    """The strings the (uncompressed) PDF draws: ASCII in Helvetica, UTF-16 in the Japanese CID font."""
    helvetica = re.search(rb"/BaseFont /Helvetica .*?/Name /(F\d+)", content).group(1)
    shown = []
    for font, literal in re.findall(rb"/(F\d+) [\d.]+ Tf(?:(?!Tf)[^(])*\((.*?)\) Tj", content):
        raw = codecs.escape_decode(literal)[0]
        shown.append(raw.decode("ascii") if font == helvetica else raw.decode("utf-16-be"))
    return shown


class AttachmentNameTests(SimpleTestCase):
    def test_it_accepts_the_allowed_document_types(self):
        self.assertEqual(validate_attachment_name("請求書.pdf", "pdf"), [])
        self.assertEqual(validate_attachment_name("照会票.DOCX", "docx"), [])
        self.assertEqual(validate_attachment_name("調査票.html", "link"), [])
        self.assertEqual(validate_attachment_name("", "pdf"), [])

    def test_it_refuses_executables_and_macro_documents(self):
        for name in (
            "請求書.exe",
            "invoice.js",
            "資料.docm",
            "資料.zip",
            "ショートカット.lnk",
            "請求書.pdf.exe",
            "請求書",
        ):
            with self.subTest(name=name):
                errors = validate_attachment_name(name, "link")
                self.assertTrue(any("使えません" in error for error in errors), errors)

    def test_it_refuses_direction_tricks_and_paths(self):
        self.assertTrue(validate_attachment_name("請求書\u202efdp.exe.pdf", "pdf"))
        self.assertTrue(validate_attachment_name("../請求書.pdf", "pdf"))

    def test_the_extension_must_match_the_attachment_mode(self):
        self.assertIn("添付の方式と合っていません", validate_attachment_name("請求書.docx", "pdf")[0])


class DocumentTests(SimpleTestCase):
    def test_a_pdf_carries_the_link_as_a_clickable_uri(self):
        filename, content, mimetype = build_attachment(
            "pdf", filename="請求書.pdf", title="請求書", body=BODY, link=LINK
        )
        self.assertEqual((filename, mimetype), ("請求書.pdf", "application/pdf"))
        self.assertTrue(content.startswith(b"%PDF-"))
        self.assertIn(b"/URI (" + LINK.encode() + b")", content)
        self.assertIn(b"HeiseiKakuGo-W5", content)
        shown = pdf_shown_text(content)
        self.assertIn(LINK, shown)
        self.assertIn("請求書", shown)
        self.assertIn("デモ区 御中", shown)
        self.assertIn("ご請求金額　1,188,000円（税込）", shown)

    def test_a_docx_carries_the_body_and_a_real_hyperlink(self):
        _, content, mimetype = build_attachment("docx", filename="", title="照会票", body=BODY, link=LINK)
        self.assertTrue(mimetype.endswith("wordprocessingml.document"))
        document = docx.Document(io.BytesIO(content))
        text = "\n".join(paragraph.text for paragraph in document.paragraphs)
        self.assertIn("デモ区 御中", text)
        self.assertIn("ご請求金額　1,188,000円（税込）", text)
        self.assertIn(LINK_LEAD, text)
        targets = [rel.target_ref for rel in document.part.rels.values() if rel.reltype.endswith("/hyperlink")]
        self.assertEqual(targets, [LINK])
        self.assertEqual(document.core_properties.author, "")

    def test_an_html_document_is_static_and_escaped(self):
        _, content, mimetype = build_attachment(
            "html",
            filename="調査票.html",
            title="調査票",
            body="<script>alert(1)</script>\n回答してください。",
            link=LINK,
        )
        page = content.decode("utf-8")
        self.assertEqual(mimetype, "text/html")
        self.assertNotIn("<script", page)
        self.assertIn("&lt;script&gt;", page)
        self.assertIn(f'<a href="{LINK}">{LINK}</a>', page)

    def test_a_body_that_already_carries_the_link_gets_it_once(self):
        _, content, _ = build_attachment("html", filename="", title="t", body=f"こちら\n{LINK}", link=LINK)
        self.assertEqual(content.decode().count(f'href="{LINK}"'), 1)
        self.assertNotIn(LINK_LEAD, content.decode())

    def test_a_default_name_is_used_when_none_is_given(self):
        filename, _, _ = build_attachment("pdf", filename="", title="ご案内", body="本文", link=LINK)
        self.assertEqual(filename, "ご案内.pdf")
