"""Dandelion: hub-and-spoke social media operations."""

__version__ = "0.1.0"
