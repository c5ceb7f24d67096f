"""PyIceberg's view of a Tidemark Iceberg catalog, for the interop tests.

usage: pyice.py DIR snapshots TABLE
       pyice.py DIR read TABLE [SNAPSHOT_ID]
       pyice.py DIR append TABLE ROWS_JSON
       pyice.py DIR fields TABLE

DIR is the catalog folder (catalog.db and warehouse/). Output is JSON.
Values are normalized so both sides can be compared: timestamps as Unix
microseconds, decimals and UUIDs as text, dates as YYYY-MM-DD.
"""

import datetime
import decimal
import json
import sys
import uuid

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def norm(v):
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return (v - EPOCH) // datetime.timedelta(microseconds=1)
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, (decimal.Decimal, uuid.UUID)):
        return str(v)
    if isinstance(v, bytes) and len(v) == 16:
        return str(uuid.UUID(bytes=v))
    return v


def main():
    folder, cmd, table = sys.argv[1], sys.argv[2], sys.argv[3]
    cat = SqlCatalog(
        "tidemark",
        uri=f"sqlite:///{folder}/catalog.db",
        warehouse=f"file://{folder}/warehouse",
    )
    t = cat.load_table(table)
    if cmd == "snapshots":
        out = [
            {
                "id": s.snapshot_id,
                "parent": s.parent_snapshot_id,
                "summary": dict(s.summary.additional_properties) if s.summary else {},
            }
            for s in t.snapshots()
        ]
    elif cmd == "read":
        snap = int(sys.argv[4]) if len(sys.argv) > 4 else None
        data = t.scan(snapshot_id=snap).to_arrow() if snap else t.scan().to_arrow()
        out = [{k: norm(v) for k, v in row.items()} for row in data.to_pylist()]
    elif cmd == "append":
        rows = json.loads(sys.argv[4])
        schema = t.schema().as_arrow()
        for row in rows:
            for f in schema:
                if pa.types.is_timestamp(f.type) and isinstance(row.get(f.name), int):
                    row[f.name] = EPOCH + datetime.timedelta(microseconds=row[f.name])
                if pa.types.is_decimal(f.type) and isinstance(row.get(f.name), str):
                    row[f.name] = decimal.Decimal(row[f.name])
        t.append(pa.Table.from_pylist(rows, schema=schema))
        out = {"snapshot": t.refresh().current_snapshot().snapshot_id}
    elif cmd == "fields":
        out = [
            {"id": f.field_id, "name": f.name, "required": f.required}
            for f in t.schema().fields
        ]
    else:
        raise SystemExit(f"unknown command {cmd}")
    json.dump(out, sys.stdout)


main()
