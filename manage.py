#!/usr/bin/env python
"""Django's command-line utility; `dandelion` (the console script) does the same."""

from dandelion.cli import main

if __name__ == "__main__":
    main()
