#!/usr/bin/env python3
"""Regenerates the run-store fixtures in tests/data from a real run database.

    build/app/edgent run --db /tmp/real.sqlite --exit 2 --partition 6 --bandwidth 2Mbps --count 80
    build/app/edgent export --db /tmp/real.sqlite --run 1 --out tests/data/recorded-samples.csv
    python3 tests/data/make_store_fixtures.py /tmp/real.sqlite tests/data

runs-v1.sqlite is that run in schema version 1 (migration 1 of core/store/Schema.cpp);
the others are files the store must refuse without touching them.
"""
import re
import shutil
import sqlite3
import sys
from pathlib import Path

real, out = Path(sys.argv[1]), Path(sys.argv[2])
source = (Path(__file__).resolve().parents[2] / "core/store/Schema.cpp").read_text()
migration1 = re.search(r'// 0 -> 1\n    R"sql\((.*?)\)sql"', source, re.S).group(1)

v1 = out / "runs-v1.sqlite"
v1.unlink(missing_ok=True)
con = sqlite3.connect(v1)
con.executescript(migration1)
con.execute("PRAGMA user_version=1")
con.execute("ATTACH DATABASE ? AS real", (str(real),))
for table in ["experiments", "models", "runs", "run_params", "events"]:
    con.execute(f"INSERT INTO {table} SELECT * FROM real.{table}")
cols = [r[1] for r in con.execute("PRAGMA table_info(samples)")]
con.execute(f"INSERT INTO samples SELECT {', '.join(cols)} FROM real.samples")
con.commit()
con.execute("DETACH DATABASE real")
con.close()

(out / "not-a-database.sqlite").write_text("run,latency_ms\n1,12.5\nthis is a CSV file, not SQLite\n")

corrupt = out / "corrupt.sqlite"
shutil.copy(v1, corrupt)
data = bytearray(corrupt.read_bytes())
page = int.from_bytes(data[16:18], "big") or 65536
for p in range(2, len(data) // page):  # leave page 1 (header and schema root) intact
    data[p * page + 8 : p * page + 8 + 64] = b"\xa5" * 64
corrupt.write_bytes(bytes(data))

foreign = out / "foreign.sqlite"
foreign.unlink(missing_ok=True)
con = sqlite3.connect(foreign)
con.execute("CREATE TABLE inventory(item TEXT, count INTEGER)")
con.execute("INSERT INTO inventory VALUES ('raspberry pi', 2)")
con.commit()
con.close()
print("store fixtures written to", out)
