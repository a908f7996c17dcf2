"""The translated apps' catalogues are complete: every marked string has a translation in every language, the
committed .mo files say the same as the .po files, and no template text escapes translation."""

from __future__ import annotations

import gettext
import os
import re
import shutil

import pytest
from django.core.management import call_command

from dandelion.core import i18n
from tests.core.i18n_scan import read_po, untranslated_text

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|{\w*}")
CATALOGUES = [(label, lang) for label in i18n.TRANSLATED_APPS for lang in i18n.translation_languages()]


def _po(label: str, lang: str):
    return i18n.locale_dir(label) / lang / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("label, lang", CATALOGUES)
def test_every_entry_is_translated_with_its_placeholders(label, lang):
    entries = read_po(_po(label, lang))
    assert entries, f"{label}: an empty catalogue"
    problems = []
    for entry in entries:
        strings = list(entry.msgstr.values())
        if entry.fuzzy or not strings or not all(s.strip() for s in strings):
            problems.append(f"untranslated or fuzzy: {entry.msgid!r}")
            continue
        expected = sorted(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        for s in strings:
            # a plural's singular form may name the number in words ("un message") instead of %(count)s
            got = sorted(PLACEHOLDER.findall(s))
            if got != expected and not (entry.msgid_plural and set(got) < set(expected)):
                problems.append(f"placeholders differ: {entry.msgid!r} -> {s!r}")
    assert not problems, f"{label} ({lang}):\n" + "\n".join(problems)


@pytest.mark.parametrize("label, lang", CATALOGUES)
def test_committed_mo_says_what_the_po_says(label, lang):
    """The .mo files are committed (nothing compiles at run time): they must be compiled from the current .po."""
    with open(_po(label, lang).with_suffix(".mo"), "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in read_po(_po(label, lang)):
        if entry.msgid_plural:
            got = [compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n) if entry.msgctxt
                   else compiled.ngettext(entry.msgid, entry.msgid_plural, n) for n in (1, 2)]
            assert got == [entry.msgstr[0], entry.msgstr[1]], f"{label}: stale .mo for {entry.msgid!r}"
        else:
            got = (compiled.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt
                   else compiled.gettext(entry.msgid))
            assert got == entry.msgstr[0], f"{label}: stale .mo for {entry.msgid!r} (run make messages)"


@pytest.fixture(scope="module")
def gettext_tools():
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("GNU gettext (xgettext, msgmerge) is required under CI")
        pytest.skip("GNU gettext is not installed (apt-get install gettext)")


@pytest.mark.parametrize("label", i18n.TRANSLATED_APPS)
def test_every_marked_string_is_in_the_catalogue(label, tmp_path, gettext_tools, settings):
    """Extract the app's marked strings again (as `make messages` does, in a copy) and merge them into its
    catalogue: a string marked in a template or in Python without a translation comes out untranslated."""
    copy = tmp_path / label
    shutil.copytree(i18n.app_dir(label), copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    here = os.getcwd()
    os.chdir(copy)
    try:
        call_command("makemessages", locale=i18n.translation_languages(), verbosity=0, **i18n.MAKEMESSAGES_OPTIONS)
    finally:
        os.chdir(here)
    for lang in i18n.translation_languages():
        missing = [entry.msgid for entry in read_po(copy / "locale" / lang / "LC_MESSAGES" / "django.po")
                   if entry.fuzzy or not all(s.strip() for s in entry.msgstr.values())]
        assert not missing, f"{label} ({lang}) lacks translations (run make messages APPS={label}): {missing}"


@pytest.mark.parametrize("label", i18n.TRANSLATED_APPS)
def test_templates_have_no_text_outside_translation(label):
    found = {}
    for path in sorted((i18n.app_dir(label) / "templates").rglob("*.html")):
        text = untranslated_text(path.read_text(encoding="utf-8"))
        if text:
            found[str(path.relative_to(i18n.app_dir(label)))] = text
    assert not found, f"{label}: text not marked for translation: {found}"


def test_the_template_scan_finds_what_escapes_translation():
    source = """{% load i18n %}<h1>{% translate "Accounts" %}</h1><p>Registered {{ count }} accounts</p>
    <input placeholder="Search handle"> <a title="{% translate 'Open' %}">{{ name }}</a> · &nbsp; 42
    {% blocktranslate %}Hello {{ name }}{% endblocktranslate %}{# a comment #}<span>Dandelion API</span>
    <script>const label = "not text";</script>"""
    assert untranslated_text(source) == ['placeholder="Search handle"', "Registered accounts"]


def test_the_po_reader_reads_plurals_contexts_and_continuations(tmp_path):
    path = tmp_path / "django.po"
    path.write_text('msgid ""\nmsgstr ""\n"Language: fr\\n"\n\n#: a.py\nmsgctxt "verb"\nmsgid "Close"\n'
                    'msgstr "Fermer"\n\n#, fuzzy, python-format\nmsgid "%(n)s item"\nmsgid_plural "%(n)s items"\n'
                    'msgstr[0] "%(n)s élément"\nmsgstr[1] ""\n"%(n)s éléments"\n\nmsgid ""\n"Long "\n"text"\n'
                    'msgstr "Texte long"\n', encoding="utf-8")
    entries = read_po(path)
    assert [(e.msgctxt, e.msgid, e.msgstr, e.fuzzy) for e in entries] == [
        ("verb", "Close", {0: "Fermer"}, False),
        (None, "%(n)s item", {0: "%(n)s élément", 1: "%(n)s éléments"}, True),
        (None, "Long text", {0: "Texte long"}, False),
    ]
