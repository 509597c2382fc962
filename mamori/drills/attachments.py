"""Harmless drill attachments: a PDF, Word or HTML document made per recipient, carrying their link.

Sanitising gateways (無害化) strip attachments, so a download link is the default; a ward whose gateway
lets documents through may attach a real one instead. Whatever the mode, the document only ever holds
text and the recipient's attachment link: no macros, no scripts, never an executable. Only the
extensions of ``ALLOWED_EXTENSIONS`` may be named.
"""

import html
import io
import re
import unicodedata
from pathlib import PurePosixPath

from django.utils.translation import gettext as _
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

PDF = "pdf"
DOCX = "docx"
HTML = "html"

# Extension → the document made for it. Everything else (.exe, .js, .docm, .zip, .lnk …) is refused.
ALLOWED_EXTENSIONS = {".pdf": PDF, ".docx": DOCX, ".html": HTML}
MIMETYPES = {
    PDF: "application/pdf",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    HTML: "text/html",
}
DEFAULT_NAMES = {PDF: "ご案内.pdf", DOCX: "ご案内.docx", HTML: "ご案内.html"}
LINK_LEAD = "内容の詳細は、次のURLからご確認ください。"

_URL = re.compile(r"https?://\S+")


def validate_attachment_name(name: str, mode: str) -> list[str]:
    """Japanese errors for an attachment file name; ``mode`` is the scenario's attachment mode."""
    if not name:
        return []
    errors = []
    if any(unicodedata.category(character) in {"Cc", "Cf"} for character in name) or re.search(r"[\\/:]", name):
        errors.append(_("ファイル名に使えない文字（制御文字・書式制御文字・/ \\ :）が含まれています。"))
    extension = PurePosixPath(name).suffix.lower()
    if extension not in ALLOWED_EXTENSIONS:
        errors.append(
            _("拡張子「%(extension)s」は使えません。実行ファイルは添付できません。使える拡張子: %(allowed)s")
            % {"extension": extension or _("なし"), "allowed": " ".join(ALLOWED_EXTENSIONS)}
        )
    elif mode in MIMETYPES and ALLOWED_EXTENSIONS[extension] != mode:
        errors.append(_("ファイル名の拡張子が添付の方式と合っていません。"))
    return errors


def attachment_filename(name: str, mode: str) -> str:
    return name or DEFAULT_NAMES[mode]


def paragraphs_with_link(body: str, link: str) -> list[str]:
    """The document's paragraphs; the link is added at the end unless the body already carries it."""
    paragraphs = [paragraph.strip("\n") for paragraph in re.split(r"\n\s*\n", body.strip())]
    paragraphs = [paragraph for paragraph in paragraphs if paragraph]
    if link not in body:
        paragraphs.append(f"{LINK_LEAD}\n{link}")
    return paragraphs


def build_attachment(mode: str, *, filename: str, title: str, body: str, link: str) -> tuple[str, bytes, str]:
    """``(filename, content, mimetype)`` of the document for one recipient."""
    builders = {PDF: pdf_document, DOCX: docx_document, HTML: html_document}
    content = builders[mode](title, paragraphs_with_link(body, link), link)
    return attachment_filename(filename, mode), content, MIMETYPES[mode]


def document_title(filename: str, fallback: str) -> str:
    return PurePosixPath(filename).stem or fallback


# --- PDF --------------------------------------------------------------------------------------------

PDF_FONT = "HeiseiKakuGo-W5"  # a CID font every PDF reader has: no font file to ship
PDF_TITLE_SIZE, PDF_TEXT_SIZE = 16, 10.5
PDF_MARGIN, PDF_LINE_HEIGHT = 20 * mm, 7 * mm


def pdf_document(title: str, paragraphs: list[str], link: str) -> bytes:
    """An A4 PDF: title, paragraphs, the link as a clickable URI annotation. No scripts, no forms."""
    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, pageCompression=0)
    page.setTitle(title)
    page.setAuthor("")
    width, height = A4
    y = height - PDF_MARGIN
    for font, size, text in pdf_lines(title, paragraphs, width - 2 * PDF_MARGIN):
        if y < PDF_MARGIN:
            page.showPage()
            y = height - PDF_MARGIN
        if text:
            page.setFont(font, size)
            page.drawString(PDF_MARGIN, y, text)
            if link in text:
                right = PDF_MARGIN + pdfmetrics.stringWidth(text, font, size)
                page.linkURL(link, (PDF_MARGIN, y - 2, right, y + size), relative=0)
        y -= PDF_LINE_HEIGHT if text else PDF_LINE_HEIGHT / 2
    page.showPage()
    page.save()
    return buffer.getvalue()


def pdf_lines(title: str, paragraphs: list[str], usable_width: float) -> list[tuple[str, float, str]]:
    """``(font, size, text)`` per printed line; an empty text is the gap after the title or a paragraph.

    ASCII lines (the URL) are set in Helvetica, so every reader copies them as plain text.
    """
    lines = [(PDF_FONT, PDF_TITLE_SIZE, title), (PDF_FONT, PDF_TEXT_SIZE, ""), (PDF_FONT, PDF_TEXT_SIZE, "")]
    for paragraph in paragraphs:
        for source_line in paragraph.split("\n"):
            font = "Helvetica" if source_line.isascii() else PDF_FONT

            def measure(text: str, font: str = font) -> float:
                return pdfmetrics.stringWidth(text, font, PDF_TEXT_SIZE)

            lines += [
                (font, PDF_TEXT_SIZE, piece or " ") for piece in wrap_to_width(source_line, measure, usable_width)
            ]
        lines.append((PDF_FONT, PDF_TEXT_SIZE, ""))
    return lines


def wrap_to_width(line: str, measure, max_width: float) -> list[str]:
    """Break a line where it would overflow: Japanese has no spaces, so by character. URLs stay whole."""
    if not line or measure(line) <= max_width or _URL.fullmatch(line.strip()):
        return [line]
    lines, current = [], ""
    for character in line:
        if current and measure(current + character) > max_width:
            lines.append(current)
            current = ""
        current += character
    return [*lines, current]


# --- DOCX -------------------------------------------------------------------------------------------


def docx_document(title: str, paragraphs: list[str], link: str) -> bytes:
    """A Word document (no macros: .docx cannot hold them) with the link as a real hyperlink."""
    document = Document()
    document.core_properties.title = title
    document.core_properties.author = ""
    document.core_properties.comments = ""
    normal = document.styles["Normal"]
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "游明朝")
    document.add_heading(title, level=1)
    for paragraph_text in paragraphs:
        paragraph = document.add_paragraph()
        for index, line in enumerate(paragraph_text.split("\n")):
            if index:
                paragraph.add_run().add_break()
            if line.strip() == link:
                add_hyperlink(paragraph, link)
            else:
                paragraph.add_run(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def add_hyperlink(paragraph, url: str) -> None:
    """python-docx has no hyperlink API: add the relationship and the ``w:hyperlink`` element by hand."""
    relationship_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    hyperlink = OxmlElement("w:hyperlink")
    hyperlink.set(qn("r:id"), relationship_id)
    run = OxmlElement("w:r")
    properties = OxmlElement("w:rPr")
    style = OxmlElement("w:rStyle")
    style.set(qn("w:val"), "Hyperlink")
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    color = OxmlElement("w:color")
    color.set(qn("w:val"), "0563C1")
    properties.extend([style, color, underline])
    text = OxmlElement("w:t")
    text.text = url
    run.extend([properties, text])
    hyperlink.append(run)
    paragraph._p.append(hyperlink)


# --- HTML -------------------------------------------------------------------------------------------


def html_document(title: str, paragraphs: list[str], link: str) -> bytes:
    """A static HTML page: escaped text, the link as an anchor, no scripts, no external resources."""
    body = []
    for paragraph in paragraphs:
        lines = [
            f'<a href="{html.escape(link)}">{html.escape(link)}</a>' if line.strip() == link else html.escape(line)
            for line in paragraph.split("\n")
        ]
        body.append("<p>" + "<br>\n".join(lines) + "</p>")
    document = (
        '<!DOCTYPE html>\n<html lang="ja">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n<h1>{html.escape(title)}</h1>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
    return document.encode("utf-8")
