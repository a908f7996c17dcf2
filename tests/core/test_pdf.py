"""core.pdf: a generic PDF builder (reportlab) whose output reads back as what was written."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from dandelion.core.pdf import MAX_TABLE_ROWS, PdfDocument, clean_text


def _read(data: bytes) -> PdfReader:
    assert data.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(data))


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in _read(data).pages)


def _fonts(data: bytes) -> set[str]:
    """The base font names of every page, asserting each one is an embedded TrueType (subset)."""
    names = set()
    for page in _read(data).pages:
        fonts = page["/Resources"].get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            assert descriptor is not None, f"{font['/BaseFont']} is not embedded"
            assert "/FontFile2" in descriptor.get_object(), "TrueType font not embedded"
            names.add(str(font["/BaseFont"]))
    return names


def test_title_headings_paragraphs_and_french_accents_read_back():
    doc = PdfDocument(title="Synthèse hebdomadaire", subtitle="Unité : Île-de-France — semaine 48")
    doc.heading("Indicateurs clés")
    doc.paragraph(
        "Taux de réponse amélioré : « très réactif » grâce à l'équipe. Œuvre, cœur, 12 €, ÿ, ç, à, É."
    )
    doc.heading("Détail", level=2)
    text = _text(doc.render())
    for expected in (
        "Synthèse hebdomadaire",
        "Île-de-France",
        "Indicateurs clés",
        "très réactif",
        "Œuvre",
        "cœur",
        "12 €",
        "Détail",
    ):
        assert expected in text


def test_fonts_are_reportlabs_own_embedded_truetype():
    doc = PdfDocument(title="Fonts")
    doc.paragraph("Plain")
    doc.table(["a", "b"], [["x", 1]])
    names = _fonts(doc.render())
    assert names, "no font in the page resources"
    # reportlab's Bitstream Vera (subset, embedded), never a standard-14 font the reader substitutes
    assert all("BitstreamVera" in name for name in names), names


def test_user_text_is_escaped_not_markup_and_control_characters_dropped():
    doc = PdfDocument(title="<b>not bold</b> & co")
    doc.paragraph('<font color="red">x</font> <script>alert(1)</script> a\x00b\x07c')
    text = _text(doc.render())
    assert "<b>not bold</b> & co" in text
    assert "<script>alert(1)</script>" in text
    assert "abc" in text
    assert clean_text("a\udc00b\x00") == "ab"
    assert clean_text(None) == ""
    assert len(clean_text("x" * 10_000)) <= 500


def test_table_cells_numbers_and_empty_table():
    doc = PdfDocument(title="Tables")
    doc.table(["Compte", "Messages", "Taux"], [["@dandelion_fr", 1234, 0.915], ["Café", None, 1.0]])
    doc.table(["Nothing"], [], empty="Aucune donnée")
    text = _text(doc.render())
    assert "@dandelion_fr" in text and "1,234" in text and "0.92" in text and "Café" in text
    assert "Aucune donnée" in text


def test_huge_table_is_bounded_and_spans_pages():
    doc = PdfDocument(title="Big")
    doc.table(["n"], ([i] for i in range(MAX_TABLE_ROWS + 25)))
    data = doc.render()
    reader = _read(data)
    assert len(reader.pages) > 10
    assert "+25" in reader.pages[-1].extract_text()


@pytest.mark.parametrize("kind", ["line_chart", "bar_chart"])
def test_charts_draw_with_legend_and_survive_gaps_and_odd_values(kind):
    doc = PdfDocument(title="Charts", landscape=True)
    labels = [f"2026-01-{d:02d}" for d in range(1, 31)]
    getattr(doc, kind)(
        "Volume entrant",
        labels=labels,
        series={"Entrants": list(range(30)), "Réponses": [None, float("nan"), float("inf")] + [5] * 27},
    )
    getattr(doc, kind)("Vide", labels=[], series={})
    getattr(doc, kind)("Tout nul", labels=["a"], series={"x": [None]})
    getattr(doc, kind)("Long", labels=list(range(5000)), series={"x": list(range(5000))})
    data = doc.render()
    assert all("BitstreamVera" in name for name in _fonts(data))
    text = _text(data)
    assert "Volume entrant" in text and "Entrants" in text and "Réponses" in text
    assert "2026-01-01" in text
