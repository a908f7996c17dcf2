"""PDF rendering: a small, generic document builder on reportlab.

Domain code describes a document (a title, headings, paragraphs, tables, line and bar charts) and gets the bytes of
a PDF back; it never touches reportlab itself::

    doc = PdfDocument(title="Weekly digest", subtitle="France, 2026-W48")
    doc.heading("Headline")
    doc.paragraph("Réponses plus rapides cette semaine.")
    doc.table(["Measure", "This week"], [["Inbound", 120]])
    doc.line_chart("Volume", labels=["Mon", "Tue"], series={"Inbound": [3, 5]})
    data = doc.render()

Text is Unicode: it is set in Bitstream Vera, the TrueType family that reportlab ships in its own package (embedded
in the file, nothing downloaded), which covers Latin-1 and the French letters beyond it (œ, Œ, Ÿ, €). Characters a
font cannot draw come out as a blank box rather than an error. User text is escaped (reportlab's paragraphs read a
small markup language), control characters are dropped, and tables and charts are bounded so a huge input makes a
long document, never a crash.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

__all__ = ["FONT", "FONT_BOLD", "PdfDocument", "clean_text"]

FONT = "DandelionSans"
FONT_BOLD = "DandelionSans-Bold"
FONT_ITALIC = "DandelionSans-Italic"
FONT_BOLD_ITALIC = "DandelionSans-BoldItalic"

#: the most rows one table draws; beyond it a last row says how many were left out
MAX_TABLE_ROWS = 5000
#: the most points a chart draws per series (longer series are thinned evenly, keeping the last point)
MAX_CHART_POINTS = 400
MAX_CHART_SERIES = 12
MAX_CELL_CHARS = 500

#: colours of the series, in order (colour-blind-safe palette, Okabe–Ito)
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

_fonts_registered = False


def _register_fonts() -> None:
    """Register reportlab's own Vera TrueType files under our names (embedded subsets in every PDF)."""
    global _fonts_registered
    if _fonts_registered:
        return
    import reportlab
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = Path(reportlab.__file__).parent / "fonts"
    for name, filename in (
        (FONT, "Vera.ttf"),
        (FONT_BOLD, "VeraBd.ttf"),
        (FONT_ITALIC, "VeraIt.ttf"),
        (FONT_BOLD_ITALIC, "VeraBI.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, str(folder / filename)))
    addMapping(FONT, 0, 0, FONT)
    addMapping(FONT, 1, 0, FONT_BOLD)
    addMapping(FONT, 0, 1, FONT_ITALIC)
    addMapping(FONT, 1, 1, FONT_BOLD_ITALIC)
    _fonts_registered = True


def clean_text(value: object, *, limit: int = MAX_CELL_CHARS) -> str:
    """Plain text for a PDF: ``None`` is empty, control characters and lone surrogates are dropped, bounded."""
    if value is None:
        return ""
    text = str(value)
    text = "".join(
        ch
        for ch in text
        if ch in "\n\t" or (unicodedata.category(ch) not in {"Cc", "Cs", "Cn"} and ch not in "\u2028\u2029")
    )
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _markup(value: object, *, limit: int = 20_000) -> str:
    """Escape text for a reportlab Paragraph (which reads a small XML markup), keeping line breaks."""
    return escape(clean_text(value, limit=limit)).replace("\n", "<br/>")


def _thin(labels: Sequence[object], series: Mapping[str, Sequence[float | None]]) -> tuple[list, dict]:
    """At most MAX_CHART_POINTS points, MAX_CHART_SERIES series."""
    n = len(labels)
    if n <= MAX_CHART_POINTS:
        idx = list(range(n))
    else:
        step = n / MAX_CHART_POINTS
        idx = sorted({min(n - 1, int(i * step)) for i in range(MAX_CHART_POINTS)} | {n - 1})
    out_series = {}
    for name, values in list(series.items())[:MAX_CHART_SERIES]:
        values = list(values)
        out_series[clean_text(name, limit=60)] = [values[i] if i < len(values) else None for i in idx]
    return [clean_text(labels[i], limit=30) for i in idx], out_series


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass
class PdfDocument:
    """A document being built: call its methods in reading order, then :meth:`render`."""

    title: str
    subtitle: str = ""
    author: str = "Dandelion"
    landscape: bool = False
    _story: list = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        _register_fonts()
        from reportlab.lib import colors
        from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

        base = getSampleStyleSheet()
        self._colors = colors
        self._styles = {
            "title": ParagraphStyle(
                "DTitle", parent=base["Title"], fontName=FONT_BOLD, fontSize=18, leading=22
            ),
            "subtitle": ParagraphStyle(
                "DSubtitle",
                parent=base["Normal"],
                fontName=FONT,
                fontSize=10,
                textColor=colors.HexColor("#555555"),
            ),
            "h1": ParagraphStyle(
                "DH1", parent=base["Heading2"], fontName=FONT_BOLD, fontSize=14, leading=18, spaceBefore=10
            ),
            "h2": ParagraphStyle(
                "DH2", parent=base["Heading3"], fontName=FONT_BOLD, fontSize=11, leading=14, spaceBefore=8
            ),
            "body": ParagraphStyle("DBody", parent=base["Normal"], fontName=FONT, fontSize=9.5, leading=12.5),
            "cell": ParagraphStyle("DCell", parent=base["Normal"], fontName=FONT, fontSize=8, leading=10),
            "cellhead": ParagraphStyle(
                "DCellHead", parent=base["Normal"], fontName=FONT_BOLD, fontSize=8, leading=10
            ),
            "note": ParagraphStyle(
                "DNote",
                parent=base["Normal"],
                fontName=FONT,
                fontSize=8,
                textColor=colors.HexColor("#666666"),
            ),
        }
        from reportlab.platypus import Paragraph, Spacer

        self._story.append(Paragraph(_markup(self.title, limit=300), self._styles["title"]))
        if self.subtitle:
            self._story.append(Paragraph(_markup(self.subtitle, limit=500), self._styles["subtitle"]))
        self._story.append(Spacer(1, 8))

    # -- text -----------------------------------------------------------------------------------------------------
    @property
    def width(self) -> float:
        from reportlab.lib.pagesizes import A4, landscape

        page = landscape(A4) if self.landscape else A4
        return page[0] - 2 * 36

    def heading(self, text: str, *, level: int = 1) -> PdfDocument:
        from reportlab.platypus import Paragraph

        self._story.append(Paragraph(_markup(text, limit=300), self._styles["h1" if level <= 1 else "h2"]))
        return self

    def paragraph(self, text: str, *, note: bool = False) -> PdfDocument:
        """A paragraph of plain text (escaped: what the user typed is what is printed)."""
        from reportlab.platypus import Paragraph

        self._story.append(Paragraph(_markup(text), self._styles["note" if note else "body"]))
        return self

    def spacer(self, height: float = 8) -> PdfDocument:
        from reportlab.platypus import Spacer

        self._story.append(Spacer(1, height))
        return self

    # -- tables ---------------------------------------------------------------------------------------------------
    def table(
        self,
        headers: Sequence[object],
        rows: Iterable[Sequence[object]],
        *,
        numeric_columns: Iterable[int] | None = None,
        empty: str = "—",
    ) -> PdfDocument:
        """A table with a repeated header row; cells wrap; numbers right-aligned (numeric cells, or the columns named)."""
        from reportlab.platypus import LongTable, Paragraph

        colors = self._colors
        heads = [clean_text(h, limit=120) for h in headers]
        ncols = max(1, len(heads))
        numeric = set(numeric_columns or ())
        body: list[list] = []
        left_out = 0
        for row in rows:
            if len(body) >= MAX_TABLE_ROWS:
                left_out += 1
                continue
            cells = list(row)[:ncols] + [""] * max(0, ncols - len(row))
            body.append(cells)
        if not body:
            self.paragraph(empty, note=True)
            return self
        right = set(numeric)
        for c in range(ncols):
            column = [r[c] for r in body if r[c] not in (None, "")]
            if column and all(isinstance(v, int | float) and not isinstance(v, bool) for v in column):
                right.add(c)

        def fmt(value: object) -> str:
            if isinstance(value, float):
                return f"{value:,.2f}".rstrip("0").rstrip(".") if math.isfinite(value) else ""
            if isinstance(value, int) and not isinstance(value, bool):
                return f"{value:,}"
            return clean_text(value)

        small = ncols > 10  # wide tables: a smaller type so headers wrap between words, not inside them
        head_style = self._style("cellhead", small)
        cell_style, right_style = self._style("cell", small), self._style("cellright", small)
        data = [[Paragraph(_markup(h), head_style) for h in heads]]
        for cells in body:
            data.append(
                [
                    Paragraph(_markup(fmt(v)), right_style if c in right else cell_style)
                    for c, v in enumerate(cells)
                ]
            )
        if left_out:
            data.append([Paragraph(_markup(f"… +{left_out:,}"), self._styles["note"])] + [""] * (ncols - 1))
        table = LongTable(data, repeatRows=1, colWidths=[self.width / ncols] * ncols)
        style = [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EEF4")),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#7A8A99")),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#C9D1D9")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("FONTNAME", (0, 0), (-1, -1), FONT),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
        table.setStyle(style)
        self._story.append(table)
        self._story.append(self._spacer(6))
        return self

    def _style(self, name: str, small: bool):
        from reportlab.lib.enums import TA_RIGHT
        from reportlab.lib.styles import ParagraphStyle

        key = f"{name}{'-small' if small else ''}"
        if key not in self._styles:
            parent = self._styles["cell"] if name == "cellright" else self._styles[name]
            extra = {"alignment": TA_RIGHT} if name == "cellright" else {}
            if small:
                extra.update(fontSize=6.5, leading=8)
            self._styles[key] = ParagraphStyle(f"D{key}", parent=parent, **extra)
        return self._styles[key]

    def _spacer(self, height: float):
        from reportlab.platypus import Spacer

        return Spacer(1, height)

    # -- charts ---------------------------------------------------------------------------------------------------
    def line_chart(
        self,
        title: str,
        *,
        labels: Sequence[object],
        series: Mapping[str, Sequence[float | None]],
        height: float = 170,
    ) -> PdfDocument:
        """A line chart, one line per series (gaps where a value is None), with a legend."""
        return self._chart("line", title, labels=labels, series=series, height=height)

    def bar_chart(
        self,
        title: str,
        *,
        labels: Sequence[object],
        series: Mapping[str, Sequence[float | None]],
        height: float = 170,
    ) -> PdfDocument:
        """A grouped vertical bar chart, one bar per series per label, with a legend."""
        return self._chart("bar", title, labels=labels, series=series, height=height)

    def _chart(self, kind, title, *, labels, series, height) -> PdfDocument:
        from reportlab.graphics.charts.barcharts import VerticalBarChart
        from reportlab.graphics.charts.legends import Legend
        from reportlab.graphics.charts.linecharts import HorizontalLineChart
        from reportlab.graphics.shapes import Drawing

        colors = self._colors
        labels, series = _thin(list(labels), series)
        self.heading(title, level=2)
        values = {name: [_number(v) for v in vals] for name, vals in series.items()}
        finite = [v for vals in values.values() for v in vals if v is not None]
        if not labels or not values or not finite:
            self.paragraph("—", note=True)
            return self
        width = self.width
        drawing = Drawing(width, height, initialFontName=FONT)
        chart = HorizontalLineChart() if kind == "line" else VerticalBarChart()
        chart.x, chart.y = 40, 36
        chart.width, chart.height = width - 60, height - 60
        if kind == "line":
            chart.data = [tuple(v for v in vals) for vals in values.values()]
        else:
            chart.data = [tuple(0 if v is None else v for v in vals) for vals in values.values()]
        low, high = min(0.0, min(finite)), max(finite)
        if high <= low:
            high = low + 1
        chart.valueAxis.valueMin = low
        chart.valueAxis.valueMax = high * 1.05 if high > 0 else high
        chart.valueAxis.labels.fontName = FONT
        chart.valueAxis.labels.fontSize = 7
        chart.valueAxis.visibleGrid = True
        chart.valueAxis.gridStrokeColor = colors.HexColor("#E1E4E8")
        chart.categoryAxis.categoryNames = list(labels)
        chart.categoryAxis.labels.fontName = FONT
        chart.categoryAxis.labels.fontSize = 6.5
        chart.categoryAxis.labels.angle = 30 if len(labels) > 8 else 0
        chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 8 else "n"
        every = max(1, math.ceil(len(labels) / 14))
        if every > 1:
            chart.categoryAxis.categoryNames = [lab if i % every == 0 else "" for i, lab in enumerate(labels)]
        palette = [colors.HexColor(c) for c in PALETTE]
        for i in range(len(chart.data)):
            colour = palette[i % len(palette)]
            if kind == "line":
                chart.lines[i].strokeColor = colour
                chart.lines[i].strokeWidth = 1.4
            else:
                chart.bars[i].fillColor = colour
                chart.bars[i].strokeColor = None
        if kind == "bar":
            chart.groupSpacing = 2 if len(labels) > 20 else 5
        drawing.add(chart)
        legend = Legend()
        legend.fontName = FONT
        legend.fontSize = 7
        legend.x, legend.y = 40, height - 8
        legend.alignment = "right"
        legend.columnMaximum = 1
        legend.dx, legend.dy = 7, 7
        legend.deltax = 0
        legend.colorNamePairs = [(palette[i % len(palette)], name) for i, name in enumerate(values)]
        legend.dxTextSpace = 4
        legend.boxAnchor = "nw"
        legend.variColumn = 1
        drawing.add(legend)
        self._story.append(drawing)
        return self

    # -- output ---------------------------------------------------------------------------------------------------
    def render(self) -> bytes:
        """The PDF's bytes (A4, page numbers and the generation time in the footer)."""
        from reportlab.lib.pagesizes import A4, landscape
        from reportlab.platypus import SimpleDocTemplate

        buffer = io.BytesIO()
        page = landscape(A4) if self.landscape else A4
        generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        footer_title = clean_text(self.title, limit=90)

        def footer(canvas, doc):
            canvas.saveState()
            canvas.setFont(FONT, 7)
            canvas.setFillColor(self._colors.HexColor("#666666"))
            canvas.drawString(36, 20, f"{footer_title} · {generated}")
            canvas.drawRightString(page[0] - 36, 20, str(doc.page))
            canvas.restoreState()

        doc = SimpleDocTemplate(
            buffer,
            pagesize=page,
            leftMargin=36,
            rightMargin=36,
            topMargin=36,
            bottomMargin=40,
            title=clean_text(self.title, limit=300),
            author=clean_text(self.author, limit=120),
            subject=clean_text(self.subtitle, limit=300),
            creator="Dandelion",
            invariant=0,
            initialFontName=FONT,
        )
        doc.build(list(self._story), onFirstPage=footer, onLaterPages=footer)
        return buffer.getvalue()
