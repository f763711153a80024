"""Moved: the BottleCRM fixtures live in tests/conftest.py (every test module sees them without an import).

This shim keeps test modules written before the move working; new tests import nothing from here.
"""

from conftest import bottlecrm_org, bottlecrm_server  # noqa: F401  (fixtures)
