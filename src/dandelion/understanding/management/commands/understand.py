"""``dandelion understand [--in FILE] [--out FILE]``: JSON lines {"id", "text"} -> understanding JSON lines."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Read JSON lines {id, text} (stdin by default) and write one understanding per line."

    def add_arguments(self, parser):
        parser.add_argument("--in", dest="infile", default="-", help="input JSON-lines file (default: stdin)")
        parser.add_argument("--out", dest="outfile", default="-", help="output JSON-lines file (default: stdout)")

    def handle(self, *args, infile="-", outfile="-", **opts):
        from dandelion.understanding.analyzer import get_analyzer
        from dandelion.understanding.jsonl import understand_stream

        try:
            fin = sys.stdin if infile == "-" else open(infile, encoding="utf-8", errors="replace")  # noqa: SIM115 (closed below)
        except OSError as exc:
            raise CommandError(f"cannot read {infile}: {exc}") from exc
        try:
            fout = sys.stdout if outfile == "-" else open(outfile, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
        except OSError as exc:
            raise CommandError(f"cannot write {outfile}: {exc}") from exc
        try:
            written, skipped = understand_stream(fin, fout, sys.stderr, get_analyzer())
        finally:
            if fin is not sys.stdin:
                fin.close()
            if fout is not sys.stdout:
                fout.close()
        if skipped:
            sys.stderr.write(f"{written} written, {skipped} unreadable line(s) skipped\n")
