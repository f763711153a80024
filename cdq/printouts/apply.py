"""Apply a returned verification form (placeholder; see below)."""
from dataclasses import dataclass


@dataclass
class ApplyResult:
    pass


def apply_returned(path, store_url=None, reference=None):
    raise NotImplementedError
