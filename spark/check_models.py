"""Spike only: the first error Spark gives for each compiled model (target/compiled, from
`dbt compile --target spark --select path:models`): a parse error, else an analysis error
(missing function, table or column), else OK. Run after dbt has exited (Derby: one process)."""
import glob, os, re, sys, time
from pyspark.sql import SparkSession
from pyspark.errors import PySparkException

home = os.environ.get("SPARK_WAREHOUSE_DIR", os.environ.get("WAREHOUSE_PATH", "warehouse.duckdb") + ".spark")
t0 = time.time()
spark = (SparkSession.builder.enableHiveSupport()
    .config("spark.sql.session.timeZone", "UTC")
    .config("spark.sql.warehouse.dir", os.path.abspath(home) + "/warehouse")
    .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
    .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={home} -Dlog4j2.configurationFile=spark/log4j2.properties -XX:TieredStopAtLevel=1")
    .getOrCreate())
import logging; logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)  # pyspark's JSON error lines
print(f"session up in {time.time()-t0:.1f}s", file=sys.stderr)
spark.sql("set spark.sql.ansi.enabled=false")
parser = spark._jsparkSession.sessionState().sqlParser()
for path in sorted(glob.glob("target/compiled/backfill/models/**/*.sql", recursive=True)):
    sql = open(path).read()
    name = path.split("/models/")[1]
    try:
        parser.parsePlan(sql)
    except Exception as e:
        msg = str(e).split("\n")[0]
        m = re.search(r"line (\d+), pos (\d+)", str(e))
        ctx = ""
        if m:
            line = sql.split("\n")[int(m.group(1)) - 1]
            ctx = " | " + line.strip()[:90]
        print(f"{name}\tPARSE\t{msg[-160:]}{ctx}")
        continue
    try:
        spark.sql(sql).schema
        print(f"{name}\tOK")
    except Exception as e:
        msg = str(e).split("\n")[0]
        print(f"{name}\tANALYSIS\t{msg[:220]}")
spark.stop()
