"""Renderers: Report -> text, each a pure function in its own module."""
