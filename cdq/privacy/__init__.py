"""Privacy by design (AVG/GDPR): find, export, erase a data subject; retention; the processing register;
pseudonymised exports.

- :func:`find_subjects` — a person's golden records, found with the linkage model.
- :func:`export_subject` — everything held about one golden record (the right of access), JSON + HTML letter.
- :func:`erase_subject` — erasure from the store and the CRM with a tombstone (:mod:`cdq.privacy.erase`);
  :func:`hold_erased` keeps erased people out of later runs (``SUBJECT_ERASED``); :func:`lift_erasure`.
- :func:`apply_retention` — the rules of ``rules/retention.yaml``.
- :func:`processing_register` — the verwerkingsregister entry as Markdown.
- :func:`pseudonymise` — consistent keyed pseudonyms for names, e-mails, phones and house numbers.
"""

from __future__ import annotations

from cdq.privacy.erase import EraseResult, erase_subject, hold_erased, lift_erasure

__all__ = ["EraseResult", "erase_subject", "hold_erased", "lift_erasure"]
