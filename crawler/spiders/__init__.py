"""Spiders: one generic spider driven by a source file; custom ones where a site needs it."""
