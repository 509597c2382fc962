"""Charts of the KPI figures as reportlab ``Drawing``s: SVG for the pages, the same objects for the PDF report.

The pages embed ``data_uri(drawing)`` as ``<img src="data:image/svg+xml;base64,…">`` (the CSP allows data:
images, and an SVG shown as an image keeps its own style attributes), always next to a table with the same
figures for screen readers. The PDF report draws the very same ``Drawing`` with ``renderPDF``.

Japanese text: the drawing names one registered reportlab font (``japanese_font()``): IPAex Gothic when the
Debian package fonts-ipaexfont-gothic is installed (its widths lay the labels out), else the built-in CID
font HeiseiKakuGo-W5. In SVG the font name becomes a CSS family list, so a browser without IPAex Gothic
falls back to its own Japanese font.
"""

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from django.utils.translation import gettext as _
from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.attrmap import AttrMap, AttrMapValue
from reportlab.lib.validators import isString
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

from mamori.metrics.kpis import format_number

IPAEX_GOTHIC = "IPAexGothic"
CID_GOTHIC = "HeiseiKakuGo-W5"
IPAEX_GOTHIC_PATHS = (
    Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
    Path("/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf"),
)
# What a browser is told to use for the drawing's font: the same face if it has it, else any Japanese one.
CSS_FONT_FAMILIES = "IPAexGothic, 'IPAexゴシック', 'Noto Sans CJK JP', 'Hiragino Sans', 'Yu Gothic', Meiryo, sans-serif"

INK = colors.HexColor("#1f2328")
MUTED = colors.HexColor("#57606a")
GRID = colors.HexColor("#d0d7de")
LINE = colors.HexColor("#0b5cad")
BAR = colors.HexColor("#8fb3d9")
BAR_HIGHLIGHT = colors.HexColor("#0b5cad")
TARGET = colors.HexColor("#9a6700")
AVERAGE = colors.HexColor("#57606a")
STATUS_COLOURS = {
    "good": colors.HexColor("#1a7f37"),
    "warn": colors.HexColor("#9a6700"),
    "bad": colors.HexColor("#cf222e"),
    "none": colors.HexColor("#57606a"),
}

LABEL_SIZE = 9
VALUE_SIZE = 9
TITLE_SIZE = 10


class Chart(Drawing):
    """A ``Drawing`` that knows its title, for the SVG's ``<title>`` (the page's ``alt`` says more)."""

    _attrMap = AttrMap(BASE=Drawing, title=AttrMapValue(isString, desc="what the chart shows"))

    def __init__(self, width: float, height: float, title: str = ""):
        super().__init__(width, height)
        self.title = str(title)  # a lazy translation is not a string to reportlab


@cache
def japanese_font() -> str:
    """The registered reportlab font name to draw Japanese with (IPAex Gothic, else the built-in CID font)."""
    for path in IPAEX_GOTHIC_PATHS:
        if path.exists():
            pdfmetrics.registerFont(TTFont(IPAEX_GOTHIC, str(path)))
            return IPAEX_GOTHIC
    pdfmetrics.registerFont(UnicodeCIDFont(CID_GOTHIC))
    return CID_GOTHIC


def format_axis_value(value: float, unit: str) -> str:
    """An axis tick: like ``format_number`` without a decimal that says nothing (0%, 50%, 12.5%)."""
    if unit == "percent":
        return f"{value:g}%"
    if unit == "minutes":
        return f"{value:g}分"
    return f"{value:g}"


def nice_ceiling(value: float, unit: str) -> float:
    """A round upper bound for an axis (1, 2, 2.5, 5 × 10ⁿ); percentages never go past 100."""
    if value <= 0:
        return 100.0 if unit == "percent" else 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        ceiling = step * magnitude
        if ceiling >= value:
            break
    return min(ceiling, 100.0) if unit == "percent" else ceiling


def _text_width(text: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, japanese_font(), size)


def _string(x: float, y: float, text: str, *, size: float = LABEL_SIZE, anchor: str = "start", colour=INK) -> String:
    return String(x, y, str(text), fontName=japanese_font(), fontSize=size, fillColor=colour, textAnchor=anchor)


def _titled(width: float, height: float, title: str) -> Chart:
    drawing = Chart(width, height, title)
    if title:
        drawing.add(_string(0, height - TITLE_SIZE - 1, title, size=TITLE_SIZE))
    return drawing


def _every_nth_label(labels: Sequence[str], slot: float) -> int:
    """Show every n-th x label so that neighbours do not overlap."""
    widest = max((_text_width(label, LABEL_SIZE) for label in labels), default=0)
    return max(1, math.ceil((widest + 4) / slot)) if slot > 0 else 1


@dataclass(frozen=True)
class _Plot:
    """The plotting area of a chart and its value scale."""

    left: float
    bottom: float
    width: float
    height: float
    ceiling: float

    def y(self, value: float) -> float:
        return self.bottom + self.height * min(max(value, 0.0), self.ceiling) / self.ceiling


def trend_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    unit: str,
    title: str = "",
    target: float | None = None,
    width: float = 320,
    height: float = 150,
) -> Chart:
    """A line over the rounds (or quarters) with each value printed and the target as a dashed line.

    ``points`` are ``(label, value)`` in order; a point without a value (no data that round) breaks the
    line rather than being drawn as zero.
    """
    drawing = _titled(width, height, title)
    values = [value for _label, value in points if value is not None]
    if not values:
        drawing.add(_string(width / 2, height / 2, _("データがありません"), anchor="middle", colour=MUTED))
        return drawing
    top_margin = (TITLE_SIZE + 6 if title else 4) + VALUE_SIZE + 4
    ceiling = nice_ceiling(max([*values, target or 0]) * 1.1, unit)
    axis_labels = [format_axis_value(ceiling * fraction, unit) for fraction in (0, 0.5, 1)]
    left = max(_text_width(label, LABEL_SIZE) for label in axis_labels) + 6
    plot = _Plot(
        left=left,
        bottom=LABEL_SIZE + 8,
        width=width - left - 8,
        height=height - LABEL_SIZE - 8 - top_margin,
        ceiling=ceiling,
    )
    _draw_value_axis(drawing, plot, unit)
    if target is not None:
        last = next((value for _label, value in reversed(points) if value is not None), None)
        _draw_target(drawing, plot, target, unit, last=last)
    slot = plot.width / len(points)
    xs = [plot.left + slot * (index + 0.5) for index in range(len(points))]
    nth = _every_nth_label([label for label, _value in points], slot)
    for index, (x, (label, _value)) in enumerate(zip(xs, points, strict=True)):
        if index % nth == 0 or index == len(points) - 1:
            drawing.add(_string(x, 2, label, anchor="middle", colour=MUTED))
    _draw_line(drawing, plot, xs, [value for _label, value in points], unit)
    return drawing


def _draw_value_axis(drawing: Drawing, plot: _Plot, unit: str) -> None:
    for fraction in (0, 0.5, 1):
        y = plot.bottom + plot.height * fraction
        drawing.add(Line(plot.left, y, plot.left + plot.width, y, strokeColor=GRID, strokeWidth=0.5))
        label = format_axis_value(plot.ceiling * fraction, unit)
        drawing.add(_string(plot.left - 3, y - LABEL_SIZE / 3, label, anchor="end", colour=MUTED))


def _draw_target(drawing: Drawing, plot: _Plot, target: float, unit: str, *, last: float | None) -> None:
    y = plot.y(target)
    drawing.add(
        Line(plot.left, y, plot.left + plot.width, y, strokeColor=TARGET, strokeWidth=1, strokeDashArray=[4, 2])
    )
    # The label sits at the right end, where the last point is: on the other side of the line from it.
    below = last is not None and last >= target and y - LABEL_SIZE - 2 > plot.bottom
    drawing.add(
        _string(
            plot.left + plot.width,
            y - LABEL_SIZE - 1 if below else y + 2,
            _("目標 %(value)s") % {"value": format_number(target, unit)},
            anchor="end",
            colour=TARGET,
        )
    )


def _draw_line(drawing: Drawing, plot: _Plot, xs: list[float], values: list[float | None], unit: str) -> None:
    segment: list[float] = []
    for x, value in zip(xs, values, strict=True):
        if value is None:
            _flush_segment(drawing, segment)
            segment = []
            continue
        y = plot.y(value)
        segment.extend((x, y))
        drawing.add(Circle(x, y, 2.5, fillColor=LINE, strokeColor=colors.white, strokeWidth=0.5))
        drawing.add(_string(x, y + 5, format_number(value, unit), size=VALUE_SIZE, anchor="middle"))
    _flush_segment(drawing, segment)


def _flush_segment(drawing: Drawing, segment: list[float]) -> None:
    if len(segment) >= 4:
        drawing.add(PolyLine(segment, strokeColor=LINE, strokeWidth=1.5))


def comparison_chart(
    rows: Sequence[tuple[str, float | None]],
    *,
    unit: str,
    title: str = "",
    target: float | None = None,
    average: float | None = None,
    highlighted: frozenset[str] = frozenset(),
    width: float = 480,
    row_height: float = 20,
) -> Chart:
    """Horizontal bars, one per row (wards, departments), with the target and the average as vertical lines.

    Rows named in ``highlighted`` (the viewer's own ward) are drawn darker; their label must say so in
    words too, since colour alone tells nothing to many readers.
    """
    legend_height = LABEL_SIZE + 6 if target is not None or average is not None else 0
    header = (TITLE_SIZE + 6 if title else 0) + legend_height
    height = header + row_height * max(len(rows), 1) + 4
    drawing = _titled(width, height, title)
    values = [value for _label, value in rows if value is not None]
    if not values:
        drawing.add(_string(width / 2, (height - header) / 2, _("データがありません"), anchor="middle", colour=MUTED))
        return drawing
    left = max(_text_width(label, LABEL_SIZE) for label, _ in rows) + 6
    value_room = max(_text_width(format_number(value, unit), VALUE_SIZE) for value in values) + 6
    ceiling = nice_ceiling(max([*values, target or 0, average or 0]), unit)
    scale_width = max(width - left - value_room, 10)
    plot_top = height - header

    def x_of(value: float) -> float:
        return left + scale_width * min(max(value, 0.0), ceiling) / ceiling

    for index, (label, value) in enumerate(rows):
        y = plot_top - row_height * (index + 1)
        drawing.add(_string(left - 4, y + row_height / 2 - LABEL_SIZE / 3, label, anchor="end"))
        if value is None:
            drawing.add(_string(left + 2, y + row_height / 2 - VALUE_SIZE / 3, format_number(None, unit), colour=MUTED))
            continue
        colour = BAR_HIGHLIGHT if label in highlighted else BAR
        bar_width = x_of(value) - left
        drawing.add(Rect(left, y + 3, bar_width, row_height - 6, fillColor=colour, strokeColor=None))
        drawing.add(_string(left + bar_width + 3, y + row_height / 2 - VALUE_SIZE / 3, format_number(value, unit)))
    legend_x = left
    for name, value, colour, dash in ((_("目標"), target, TARGET, [4, 2]), (_("平均"), average, AVERAGE, [1, 2])):
        if value is None:
            continue
        x = x_of(value)
        drawing.add(Line(x, 2, x, plot_top, strokeColor=colour, strokeWidth=1, strokeDashArray=dash))
        # The legend repeats each line's dash next to its name, so the two lines are told apart without colour.
        y = plot_top + 4 + LABEL_SIZE / 3
        drawing.add(Line(legend_x, y, legend_x + 16, y, strokeColor=colour, strokeWidth=1, strokeDashArray=dash))
        text = f"{name} {format_number(value, unit)}"
        drawing.add(_string(legend_x + 20, plot_top + 4, text, colour=MUTED))
        legend_x += 20 + _text_width(text, LABEL_SIZE) + 12
    return drawing


def target_bar(
    value: float | None,
    *,
    unit: str,
    target: float | None,
    status: str = "none",
    width: float = 160,
    height: float = 18,
) -> Chart:
    """One figure against its target: a bar in the traffic-light colour and a mark at the target.

    The status word sits beside it on the page and in the PDF; this bar only adds the picture.
    """
    drawing = Chart(width, height)
    drawing.add(Rect(0, 4, width, height - 8, fillColor=colors.HexColor("#f6f8fa"), strokeColor=GRID, strokeWidth=0.5))
    if value is None:
        return drawing
    ceiling = nice_ceiling(max(value, target or 0) * 1.1, unit)
    drawing.add(
        Rect(
            0, 4, width * min(value, ceiling) / ceiling, height - 8, fillColor=STATUS_COLOURS[status], strokeColor=None
        )
    )
    if target is not None:
        x = width * min(target, ceiling) / ceiling
        drawing.add(Line(x, 0, x, height, strokeColor=INK, strokeWidth=1.5))
    return drawing


def svg(drawing: Drawing) -> str:
    """The drawing as an SVG document, its title set and its font named as a CSS family list.

    The charts of this module are written directly (``_svg_document``, ~0.1 ms of CPU a chart): reportlab's
    renderSVG builds a DOM (~2.4 ms) and was most of a cold dashboard's chart time. A drawing holding any
    other kind of shape goes through renderSVG as before.
    """
    document = _svg_document(drawing)
    if document is not None:
        return document
    font = japanese_font()
    document = renderSVG.drawToString(drawing, fontHacks={font: {"family": CSS_FONT_FAMILIES}})
    title = escape(getattr(drawing, "title", "") or "")
    return document.replace("<title>...</title>", f"<title>{title}</title>", 1).replace(
        "<desc>...</desc>", "<desc></desc>", 1
    )


_ANCHORS = {"start": "start", "middle": "middle", "end": "end"}


def _number(value: float) -> str:
    """A coordinate with two decimals at most (``12``, ``12.5``, ``12.35``): short documents."""
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def _paint(colour) -> str:
    return "none" if colour is None else "#" + colour.hexval()[2:]


def _stroke(shape) -> str:
    attributes = f'stroke="{_paint(shape.strokeColor)}"'
    if shape.strokeColor is not None:
        attributes += f' stroke-width="{_number(shape.strokeWidth)}"'
        if shape.strokeDashArray:
            attributes += f' stroke-dasharray="{" ".join(_number(part) for part in shape.strokeDashArray)}"'
    return attributes


def _svg_element(shape, height: float) -> str | None:
    """One shape as an SVG element, y flipped (reportlab's y grows upwards); None for an unknown shape."""
    kind = type(shape)
    if kind is String:
        family = quoteattr(CSS_FONT_FAMILIES)
        return (
            f'<text x="{_number(shape.x)}" y="{_number(height - shape.y)}" font-family={family} '
            f'font-size="{_number(shape.fontSize)}" fill="{_paint(shape.fillColor)}" '
            f'text-anchor="{_ANCHORS.get(shape.textAnchor, "start")}">{escape(shape.text)}</text>'
        )
    if kind is Line:
        return (
            f'<line x1="{_number(shape.x1)}" y1="{_number(height - shape.y1)}" x2="{_number(shape.x2)}" '
            f'y2="{_number(height - shape.y2)}" {_stroke(shape)}/>'
        )
    if kind is Rect:
        return (
            f'<rect x="{_number(shape.x)}" y="{_number(height - shape.y - shape.height)}" '
            f'width="{_number(max(shape.width, 0))}" height="{_number(max(shape.height, 0))}" '
            f'fill="{_paint(shape.fillColor)}" {_stroke(shape)}/>'
        )
    if kind is Circle:
        return (
            f'<circle cx="{_number(shape.cx)}" cy="{_number(height - shape.cy)}" r="{_number(shape.r)}" '
            f'fill="{_paint(shape.fillColor)}" {_stroke(shape)}/>'
        )
    if kind is PolyLine:
        points = shape.points
        pairs = " ".join(
            f"{_number(points[index])},{_number(height - points[index + 1])}" for index in range(0, len(points), 2)
        )
        return f'<polyline points="{pairs}" fill="none" {_stroke(shape)}/>'
    return None


def _svg_document(drawing: Drawing) -> str | None:
    """The SVG text of a drawing made of String, Line, Rect, Circle and PolyLine only (None otherwise).

    Plain attributes, no ``style``: the document is shown through ``<img>``, where the page's CSP does not
    apply to it anyway, and presentation attributes are what every SVG reader understands.
    """
    height = drawing.height
    elements = []
    for shape in drawing.contents:
        element = _svg_element(shape, height)
        if element is None:
            return None
        elements.append(element)
    title = escape(getattr(drawing, "title", "") or "")
    width = _number(drawing.width)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{_number(height)}" '
        f'viewBox="0 0 {width} {_number(height)}"><title>{title}</title>' + "".join(elements) + "</svg>"
    )


def data_uri(drawing: Drawing) -> str:
    """The SVG as a data: URL for an ``<img src>`` (the CSP allows data: images)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg(drawing).encode()).decode("ascii")
