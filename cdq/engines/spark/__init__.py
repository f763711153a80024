"""The Spark engine: :func:`cdq.linkage.dedupe`'s model, rules and results on an Apache Spark cluster.

Optional (``pip install "cdq[spark]"`` and a Java 17+ runtime). Every step reuses the pandas engine's code per
partition; the steps that need the whole file (blocking, value counts, EM's pattern counts, connected
components) are Spark joins and aggregations, so no machine ever holds all pairs.

Examples:
    >>> from cdq.engines.spark import session
    >>> session.resolved_conf()["spark.driver.memory"]
    '2g'
"""

from __future__ import annotations

from cdq.engines.spark.session import java_available, spark_session

__all__ = ["spark_session", "java_available", "dedupe", "SparkLinkageResult"]


def __getattr__(name: str):
    # the linkage modules import pyspark lazily, but keep `import cdq.engines.spark` cheap for the CLI
    if name in ("dedupe", "SparkLinkageResult"):
        from cdq.engines.spark import linkage

        return getattr(linkage, name)
    raise AttributeError(name)
