"""PyIceberg's view of a Tidemark Iceberg catalog, for the interop tests.

usage: pyice.py DIR snapshots TABLE
       pyice.py DIR read TABLE [SNAPSHOT_ID]
       pyice.py DIR append TABLE ROWS_JSON
       pyice.py DIR fields TABLE
       pyice.py DIR create TABLE SCHEMA_JSON

DIR is the catalog folder (catalog.db and warehouse/), or the URL of an
Iceberg REST catalog; then the bearer token comes from $PYICE_TOKEN and the
optional warehouse from $PYICE_WAREHOUSE. SCHEMA_JSON is an Iceberg schema
(`{"type": "struct", "fields": [...]}`); `create` also creates the namespace
when missing. Output is JSON.
Values are normalized so both sides can be compared: timestamps as Unix
microseconds, decimals and UUIDs as text, dates as YYYY-MM-DD.
"""

import datetime
import decimal
import json
import os
import sys
import uuid

import pyarrow as pa
from pyiceberg.catalog.rest import RestCatalog
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NamespaceAlreadyExistsError
from pyiceberg.schema import Schema

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


def catalog(target):
    if target.startswith(("http://", "https://")):
        extra = {}
        if os.environ.get("PYICE_WAREHOUSE"):
            extra["warehouse"] = os.environ["PYICE_WAREHOUSE"]
        return RestCatalog(
            "rest", uri=target, token=os.environ["PYICE_TOKEN"], **extra
        )
    return SqlCatalog(
        "tidemark",
        uri=f"sqlite:///{target}/catalog.db",
        warehouse=f"file://{target}/warehouse",
    )


def main():
    target, cmd, table = sys.argv[1], sys.argv[2], sys.argv[3]
    cat = catalog(target)
    if cmd == "create":
        schema = Schema.model_validate_json(sys.argv[4])
        try:
            cat.create_namespace(table.rsplit(".", 1)[0])
        except NamespaceAlreadyExistsError:
            pass
        t = cat.create_table(table, schema=schema)
        json.dump({"location": t.location()}, sys.stdout)
        return
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
