"""Spike only: land tests/fixtures/mixpanel_small.jsonl into Spark as raw.* tables, and the
seeds as backfill.<seed> tables (read with Spark's CSV reader, since dbt-spark's session seeds
mangle values). Same warehouse/metastore as profiles.yml's `spark` target; run from the repo root
while no other Spark process uses that folder."""
import glob, os, sys, time

from pyspark.sql import SparkSession

home = os.environ.get("SPARK_WAREHOUSE_DIR", os.environ.get("WAREHOUSE_PATH", "warehouse.duckdb") + ".spark")
os.makedirs(home, exist_ok=True)
t0 = time.time()
spark = (
    SparkSession.builder.enableHiveSupport()
    .config("spark.sql.session.timeZone", "UTC")
    .config("spark.sql.warehouse.dir", os.path.abspath(home) + "/warehouse")
    .config("spark.driver.memory", "2g")
    .config("spark.ui.enabled", "false")
    .config("spark.ui.showConsoleProgress", "false")
    .config("spark.driver.extraJavaOptions",
            f"-Dderby.system.home={home} -Dlog4j2.configurationFile=spark/log4j2.properties -XX:TieredStopAtLevel=1")
    .getOrCreate()
)
print(f"spark session up in {time.time() - t0:.1f}s", file=sys.stderr)
t1 = time.time()
spark.sql("create database if not exists raw")
spark.sql("create database if not exists backfill")
spark.sql("create database if not exists sync")

fixture = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/mixpanel_small.jsonl")
raw_cols = "load_id bigint, line_number bigint, file_path string, loaded_at timestamp, record string"
for t in ["mixpanel_events", "mixpanel_profiles", "amplitude_events", "segment_events", "ga4_events", "shop_events"]:
    spark.sql(f"drop table if exists raw.{t}")
    spark.sql(f"create table raw.{t} ({raw_cols}) using parquet")
spark.sql(f"""
    insert into raw.mixpanel_events
    select 1, row_number() over (order by monotonically_increasing_id()), '{fixture}',
           timestamp'2026-01-01 00:00:00', value
    from text.`{fixture}`
    where trim(value) <> ''
""")
n = spark.sql("select count(*) from raw.mixpanel_events").first()[0]
spark.sql("drop table if exists raw.loads")
spark.sql("""create table raw.loads (load_id bigint, source_system string, file_path string,
    content_sha256 string, file_bytes bigint, records bigint, bad_lines bigint, loaded_at timestamp,
    file_modified_ns bigint) using parquet""")
spark.sql(f"insert into raw.loads values (1, 'mixpanel', '{fixture}', sha2('x', 256), 0, {n}, 0, timestamp'2026-01-01 00:00:00', 0)")
spark.sql("drop table if exists raw.load_errors")
spark.sql("""create table raw.load_errors (load_id bigint, source_system string, file_path string,
    line_number bigint, line string, error string, loaded_at timestamp) using parquet""")

for path in sorted(glob.glob("seeds/*.csv")):
    name = os.path.basename(path)[:-4]
    df = spark.read.option("header", True).option("inferSchema", False).csv(os.path.abspath(path))
    df.write.mode("overwrite").format("parquet").saveAsTable(f"backfill.{name}")
print(f"landed {n} mixpanel records and {len(glob.glob('seeds/*.csv'))} seeds in {time.time() - t1:.1f}s", file=sys.stderr)
spark.stop()
