"""Retrain the understanding heads (same as ``dandelion train``): ``python bench/train_understanding.py``."""

import os
import sys
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "2")
warnings.filterwarnings("ignore")

from dandelion.understanding.training import train_all

if __name__ == "__main__":
    train_all(sys.argv[1] if len(sys.argv) > 1 else None)
