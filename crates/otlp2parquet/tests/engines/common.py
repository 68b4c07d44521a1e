"""What the engine checks share: scratch directories and one quiet local Spark session."""
import atexit
import logging
import os
import shutil
import tempfile
import warnings


def scratch_dir(prefix):
    """A temporary directory removed when the script exits."""
    d = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, d, True)
    return d


def start_spark(app):
    """A local Spark session on 127.0.0.1 (no UI, UTC, logging off): the JVM starts once per process."""
    warnings.filterwarnings("ignore")
    logging.getLogger("py4j").setLevel(logging.CRITICAL)
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    conf = os.path.join(scratch_dir(app + "-spark-"), "log4j2.properties")
    with open(conf, "w") as f:
        f.write("rootLogger.level = off\nrootLogger.appenderRef.stderr.ref = console\n"
                "appender.console.type = Console\nappender.console.name = console\n"
                "appender.console.target = SYSTEM_ERR\nappender.console.layout.type = PatternLayout\n"
                "appender.console.layout.pattern = %p %c{1}: %m%n\n")
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[1]").appName(app)
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{conf}")
             .getOrCreate())
    spark.sparkContext.setLogLevel("OFF")
    return spark
