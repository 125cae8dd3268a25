"""Helpers shared by several test packages (importable as ``support``: ``tests/`` is on
``sys.path`` because pytest loads ``tests/conftest.py`` from there)."""
