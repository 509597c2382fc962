"""The KPI charts: SVG for the pages and the same Drawing in a PDF, Japanese text included."""

import base64
import xml.etree.ElementTree as ET

from django.test import SimpleTestCase
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Ellipse, Line, PolyLine, Rect, String

from mamori.metrics import charts

SVG = "{http://www.w3.org/2000/svg}"
SEED_TREND = [("第1回", 22.7), ("第2回", 15.1), ("第3回", 10.4), ("第4回", 7.3)]


def parse_svg(document: str) -> ET.Element:
    # The documents parsed here are the charts this module just drew, not outside input.
    return ET.fromstring(document.encode())  # noqa: S314


def parsed(drawing) -> ET.Element:
    return parse_svg(charts.svg(drawing))


def texts(drawing) -> list[str]:
    return [element.text for element in parsed(drawing).iter(f"{SVG}text")]


class TrendChartTests(SimpleTestCase):
    def test_it_draws_the_seed_curve_with_values_rounds_and_target(self):
        drawing = charts.trend_chart(SEED_TREND, unit="percent", title="クリック率の推移", target=3)

        labels = texts(drawing)
        self.assertIn("クリック率の推移", labels)
        for round_label, value in SEED_TREND:
            self.assertIn(round_label, labels)
            self.assertIn(f"{value:.1f}%", labels)
        self.assertIn("目標 3.0%", labels)
        self.assertEqual(parsed(drawing).find(f"{SVG}title").text, "クリック率の推移")

    def test_the_values_rise_and_fall_on_the_page_as_in_the_data(self):
        drawing = charts.trend_chart(SEED_TREND, unit="percent")

        # Each value is printed just above its point; SVG y grows downwards after the flip, so read the
        # points from the drawing itself.
        circles = [shape for shape in drawing.contents if type(shape).__name__ == "Circle"]
        heights = [circle.cy for circle in circles]
        self.assertEqual(heights, sorted(heights, reverse=True))
        self.assertEqual(len(circles), 4)

    def test_a_round_without_data_breaks_the_line_instead_of_dropping_to_zero(self):
        points = [("第1回", 20.0), ("第2回", 18.0), ("第3回", None), ("第4回", 9.0), ("第5回", 8.0)]
        drawing = charts.trend_chart(points, unit="percent")

        lines = [shape for shape in drawing.contents if type(shape).__name__ == "PolyLine"]
        self.assertEqual(len(lines), 2)
        self.assertNotIn("0.0%", texts(drawing))

    def test_without_any_data_it_says_so(self):
        drawing = charts.trend_chart([("第1回", None)], unit="percent", title="報告率")

        self.assertIn("データがありません", texts(drawing))

    def test_minutes_are_printed_as_minutes(self):
        drawing = charts.trend_chart([("第1回", 42.0), ("第2回", 8.5)], unit="minutes", target=30)

        labels = texts(drawing)
        self.assertIn("42分", labels)
        self.assertIn("8.5分", labels)
        self.assertIn("目標 30分", labels)

    def test_many_rounds_do_not_print_overlapping_labels(self):
        points = [(f"2026年度 第{number}回", float(number)) for number in range(1, 25)]
        drawing = charts.trend_chart(points, unit="count", width=200)

        shown = [label for label in texts(drawing) if label.startswith("2026年度")]
        self.assertLess(len(shown), 24)
        self.assertIn("2026年度 第24回", shown)


class ComparisonChartTests(SimpleTestCase):
    def test_it_draws_a_bar_per_row_with_target_and_average(self):
        rows = [("区A", 40.0), ("区B（自区）", 62.5), ("区C", None)]
        drawing = charts.comparison_chart(
            rows,
            unit="percent",
            title="1時間以内の報告率",
            target=80,
            average=51.25,
            highlighted=frozenset({"区B（自区）"}),
        )

        labels = texts(drawing)
        for label in ("区A", "区B（自区）", "区C", "40.0%", "62.5%", "目標 80.0%", "平均 51.2%"):
            self.assertIn(label, labels)
        bars = [shape for shape in drawing.contents if type(shape).__name__ == "Rect"]
        self.assertEqual(len(bars), 2)
        self.assertAlmostEqual(bars[1].width / bars[0].width, 62.5 / 40.0)
        self.assertEqual(bars[1].fillColor, charts.BAR_HIGHLIGHT)
        self.assertEqual(bars[0].fillColor, charts.BAR)

    def test_its_height_grows_with_the_rows(self):
        few = charts.comparison_chart([("a", 1.0)], unit="percent")
        many = charts.comparison_chart([(str(number), 1.0) for number in range(23)], unit="percent")

        self.assertGreater(many.height, few.height * 10)


class TargetBarTests(SimpleTestCase):
    def test_the_bar_takes_the_traffic_light_colour(self):
        drawing = charts.target_bar(62.5, unit="percent", target=80, status="warn")

        fills = [shape.fillColor for shape in drawing.contents if type(shape).__name__ == "Rect"]
        self.assertIn(charts.STATUS_COLOURS["warn"], fills)


class RenderingTests(SimpleTestCase):
    def test_the_same_drawing_goes_into_a_pdf_with_its_japanese_font(self):
        drawing = charts.trend_chart(SEED_TREND, unit="percent", title="クリック率の推移", target=3)

        pdf = renderPDF.drawToString(drawing)

        self.assertTrue(pdf.startswith(b"%PDF"))
        self.assertIn(charts.japanese_font().encode(), pdf)

    def test_the_data_uri_decodes_to_the_svg(self):
        drawing = charts.trend_chart(SEED_TREND, unit="percent", title="推移 <&>")

        uri = charts.data_uri(drawing)

        self.assertTrue(uri.startswith("data:image/svg+xml;base64,"))
        document = base64.b64decode(uri.split(",", 1)[1]).decode()
        self.assertEqual(parse_svg(document).find(f"{SVG}title").text, "推移 <&>")
        self.assertIn("Noto Sans CJK JP", document)


class DirectSvgTests(SimpleTestCase):
    """The SVG is written directly from the drawing's shapes, y flipped to SVG's downward axis."""

    def test_shapes_keep_their_place_colour_and_dashes(self):
        drawing = charts.Chart(200, 100, "図")
        drawing.add(Rect(10, 20, 30, 40, fillColor=charts.BAR, strokeColor=None))
        drawing.add(Line(0, 10, 200, 10, strokeColor=charts.TARGET, strokeWidth=1, strokeDashArray=[4, 2]))
        drawing.add(PolyLine([0, 0, 50, 100], strokeColor=charts.LINE, strokeWidth=1.5))
        drawing.add(String(5, 90, "目標 <3%> & 区", fontName=charts.japanese_font(), fontSize=9, textAnchor="end"))

        root = parsed(drawing)

        rect = root.find(f"{SVG}rect")
        self.assertEqual([rect.get(name) for name in ("x", "y", "width", "height")], ["10", "40", "30", "40"])
        self.assertEqual((rect.get("fill"), rect.get("stroke")), ("#8fb3d9", "none"))
        line = root.find(f"{SVG}line")
        self.assertEqual((line.get("y1"), line.get("y2"), line.get("stroke-dasharray")), ("90", "90", "4 2"))
        self.assertEqual(root.find(f"{SVG}polyline").get("points"), "0,100 50,0")
        text = root.find(f"{SVG}text")
        self.assertEqual((text.text, text.get("y"), text.get("text-anchor")), ("目標 <3%> & 区", "10", "end"))
        self.assertIn("Noto Sans CJK JP", text.get("font-family"))
        self.assertEqual(root.find(f"{SVG}title").text, "図")

    def test_a_drawing_with_another_kind_of_shape_goes_through_renderSVG(self):
        drawing = charts.Chart(100, 50)
        drawing.add(Ellipse(50, 25, 20, 10))

        self.assertIsNotNone(parsed(drawing).find(f".//{SVG}ellipse"))


class FormattingTests(SimpleTestCase):
    def test_axis_ticks_drop_decimals_that_say_nothing(self):
        self.assertEqual(charts.format_axis_value(0.0, "percent"), "0%")
        self.assertEqual(charts.format_axis_value(12.5, "percent"), "12.5%")
        self.assertEqual(charts.format_axis_value(60.0, "minutes"), "60分")

    def test_axes_end_on_round_numbers(self):
        self.assertEqual(charts.nice_ceiling(24.97, "percent"), 25)
        self.assertEqual(charts.nice_ceiling(88, "percent"), 100)
        self.assertEqual(charts.nice_ceiling(130, "percent"), 100)
        self.assertEqual(charts.nice_ceiling(3.3, "count"), 5)
        self.assertEqual(charts.nice_ceiling(0, "minutes"), 1)
