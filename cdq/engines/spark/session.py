"""The SparkSession the Spark engine runs in: master, memory bounds and configuration from a file or the
environment.

Precedence (later wins): cdq's defaults (:data:`DEFAULTS`), a ``spark-defaults.conf``-style file named by
``CDQ_SPARK_CONF`` (``key value`` per line), ``CDQ_SPARK_<KEY>`` environment variables
(``CDQ_SPARK_DRIVER_MEMORY=4g`` sets ``spark.driver.memory``), then the caller's ``conf``. The master comes from
the caller, else ``CDQ_SPARK_MASTER``, else ``local[*]``. Under ``spark-submit`` or on Databricks a session
already exists and is used as it is.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

from cdq.errors import ConfigError, UsageError

logger = logging.getLogger(__name__)

#: Bounded memory: the driver holds only counts, patterns and small samples (never the pairs), so 2 GB is
#: enough at any input size; executors process one Arrow batch of records or block rows at a time.
DEFAULTS = {
    "spark.driver.memory": "2g",
    "spark.executor.memory": "3g",  # the executor JVM's heap (in local mode: the driver's JVM, one heap)
    # each Python worker (one per core; cdq's pandas code) may map at most this much (RLIMIT_AS): over it, the
    # task fails with a MemoryError instead of the machine running out. Virtual size, not resident: a worker
    # maps about 1.5 GB (thread pools, allocator arenas) before it holds 300 MB, and peaked at 1.9 GB at 100k.
    "spark.executor.pyspark.memory": "3g",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # pandas UDFs work on one batch (records, or block rows whose pairs they compare) at a time: what a worker
    # holds grows with this, not with the input; larger batches amortise the per-call cost
    "spark.sql.execution.arrow.maxRecordsPerBatch": "20000",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.shuffle.partitions": "16",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    # staging columns are case-sensitive (an export may have both "Postcode" and "postcode": src:Postcode and
    # src:postcode); Spark's default would call them one ambiguous column
    "spark.sql.caseSensitive": "true",
}


def _require_pyspark():
    try:
        import pyspark  # noqa: F401
    except ImportError as e:
        raise UsageError("the Spark engine needs PySpark, which is not installed",
                         hint='pip install "cdq[spark]" (and a Java 17+ runtime), or use --engine pandas') from e


def java_available() -> bool:
    """Whether a Java runtime Spark can start is on this machine (``JAVA_HOME`` or ``java`` on the PATH)."""
    home = os.environ.get("JAVA_HOME")
    return bool((home and (Path(home) / "bin" / "java").exists()) or shutil.which("java"))


def _file_conf(path: str) -> dict[str, str]:
    out = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the Spark configuration (CDQ_SPARK_CONF): {e}") from e
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.split(None, 1) if "=" not in text.split(None, 1)[0] else text.split("=", 1)
        if len(parts) != 2:
            raise ConfigError(f"{path}:{number}: expected 'key value' (like spark-defaults.conf)")
        out[parts[0].strip()] = parts[1].strip()
    return out


def resolved_conf(conf: dict[str, str] | None = None) -> dict[str, str]:
    """The configuration a new session gets (see the module docstring for the order).

    Examples:
        >>> resolved_conf({"spark.sql.shuffle.partitions": "4"})["spark.sql.shuffle.partitions"]
        '4'
    """
    out = dict(DEFAULTS)
    if os.environ.get("CDQ_SPARK_CONF"):
        out.update(_file_conf(os.environ["CDQ_SPARK_CONF"]))
    for key, value in os.environ.items():
        if key.startswith("CDQ_SPARK_") and key not in ("CDQ_SPARK_CONF", "CDQ_SPARK_MASTER"):
            out["spark." + key[len("CDQ_SPARK_"):].lower().replace("_", ".")] = value
    out.update(conf or {})
    # executors run cdq's pandas code: the same interpreter (and so the same cdq) as the driver
    out.setdefault("spark.pyspark.python", sys.executable)
    out.setdefault("spark.pyspark.driver.python", sys.executable)
    return out


def spark_session(master: str | None = None, conf: dict[str, str] | None = None, app_name: str = "cdq"):
    """The active SparkSession, or a new one on ``master`` (``local[2]``, ``spark://host:7077``, ...).

    Raises:
        UsageError: PySpark or Java is missing (with what to install).
    """
    _require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        active.conf.set("spark.sql.caseSensitive", "true")  # a runtime setting: also on a session we did not make
        return active
    if not java_available():
        raise UsageError("the Spark engine needs a Java runtime (17 or newer), and none was found",
                         hint="install one (apt-get install openjdk-17-jre-headless) or set JAVA_HOME")
    # python workers started by this machine's executors (local mode, a standalone worker here) run cdq's
    # pandas code: the driver's interpreter, unless the user says otherwise
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name).master(master or os.environ.get("CDQ_SPARK_MASTER", "local[*]"))
    for key, value in resolved_conf(conf).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    logger.info("spark: session on %s", session.sparkContext.master)
    return session
