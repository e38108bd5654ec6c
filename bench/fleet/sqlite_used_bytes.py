"""The bytes a SQLite store uses: its pages less the free ones, once the WAL is checkpointed
into the file (a WAL is reused, not grown, so its size is a high-water mark of recent writes, not
growth). Prints one number; used by bench/fleet/run as its --store-size."""
import sqlite3
import sys

db = sqlite3.connect(sys.argv[1], timeout=30)
db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
pages = db.execute("PRAGMA page_count").fetchone()[0]
free = db.execute("PRAGMA freelist_count").fetchone()[0]
size = db.execute("PRAGMA page_size").fetchone()[0]
print((pages - free) * size)
