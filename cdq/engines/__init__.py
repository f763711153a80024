"""Engines that run the matching: ``pandas`` (the default: :mod:`cdq.linkage` on one machine) and ``spark``
(:mod:`cdq.engines.spark`: the same model, rules and results on an Apache Spark cluster, for inputs one
machine's memory cannot hold). Spark is an optional extra (``pip install "cdq[spark]"``)."""

from __future__ import annotations

__all__ = ["ENGINES"]

#: The engines ``cdq dedupe --engine`` and a pipeline's ``engine:`` accept.
ENGINES = ("pandas", "spark")
