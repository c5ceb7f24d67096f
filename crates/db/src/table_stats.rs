//! Facts about tables that the schema model does not hold, for metadata
//! scans: an estimated row count where the database keeps one cheaply, the
//! creation and update times where it exposes them, and storage properties.
//!
//! Every query here is one set-based catalog read, whatever the number of
//! tables; nothing scans user data except SQLite's `count(*)` on small files.

use crate::error::{query_err, DbError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::mysql::MySqlConnection;
use sqlx::postgres::PgConnection;
use sqlx::Row;
use std::collections::BTreeMap;
use tidemark_model::TableRef;

/// SQLite files up to this size get an exact `count(*)` per table when
/// `ANALYZE` has left no statistics: counting is then a matter of
/// milliseconds.
const SQLITE_COUNT_LIMIT_BYTES: i64 = 32 * 1024 * 1024;

/// What a database says about one table beyond its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableStats {
    /// The table.
    pub table: TableRef,
    /// The planner's row estimate (PostgreSQL `reltuples`, MySQL
    /// `TABLE_ROWS`, SQLite `sqlite_stat1` or an exact count of a small
    /// file); `None` when the database has none (e.g. never analyzed).
    pub estimated_rows: Option<u64>,
    /// When the table was created, where the database records it (MySQL
    /// `CREATE_TIME`, which MariaDB also moves when a table is rebuilt).
    pub created_at: Option<DateTime<Utc>>,
    /// When its data last changed, where the database records it (MySQL
    /// `UPDATE_TIME`): row writes move it, so it says nothing about the schema.
    pub updated_at: Option<DateTime<Utc>>,
    /// Storage properties that are part of the table's definition (MySQL
    /// `engine` and `collation`).
    pub properties: BTreeMap<String, String>,
}

impl TableStats {
    fn new(schema: String, table: String) -> TableStats {
        TableStats {
            table: TableRef { schema, table },
            estimated_rows: None,
            created_at: None,
            updated_at: None,
            properties: BTreeMap::new(),
        }
    }
}

/// PostgreSQL: `reltuples` (-1 until the table is first vacuumed or
/// analyzed on PostgreSQL 14+); a partitioned table sums its partitions.
/// Same schema filter as introspection: empty means every user schema.
pub(crate) async fn postgres(
    conn: &mut PgConnection,
    target: &str,
    schemas: &[String],
) -> Result<Vec<TableStats>, DbError> {
    let rows = sqlx::query(
        "SELECT n.nspname::text, c.relname::text, \
                CASE WHEN c.relkind = 'p' THEN \
                     (SELECT sum(ch.reltuples)::float8 FROM pg_catalog.pg_inherits i \
                      JOIN pg_catalog.pg_class ch ON ch.oid = i.inhrelid \
                      WHERE i.inhparent = c.oid AND ch.reltuples >= 0) \
                     ELSE c.reltuples::float8 END \
         FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition \
           AND ((cardinality($1::text[]) = 0 \
                 AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema') \
                OR n.nspname = ANY($1::text[]))",
    )
    .bind(schemas)
    .fetch_all(conn)
    .await
    .map_err(query_err(target, "reading table statistics"))?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut stats = TableStats::new(row.get(0), row.get(1));
            let estimate: Option<f64> = row.get(2);
            stats.estimated_rows = estimate.filter(|e| *e >= 0.0).map(|e| e.round() as u64);
            stats
        })
        .collect())
}

/// MySQL / MariaDB: `information_schema.TABLES`. `schemas` must be resolved
/// already (MySQL's default is the connected database). Times are read as
/// Unix seconds so the session time zone cannot shift them.
pub(crate) async fn mysql(
    conn: &mut MySqlConnection,
    target: &str,
    schemas: &[String],
) -> Result<Vec<TableStats>, DbError> {
    if schemas.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; schemas.len()].join(", ");
    let sql = format!(
        "SELECT CAST(TABLE_SCHEMA AS CHAR), CAST(TABLE_NAME AS CHAR), \
                CAST(TABLE_ROWS AS SIGNED), \
                CAST(UNIX_TIMESTAMP(CREATE_TIME) AS SIGNED), \
                CAST(UNIX_TIMESTAMP(UPDATE_TIME) AS SIGNED), \
                CAST(ENGINE AS CHAR), CAST(TABLE_COLLATION AS CHAR) \
         FROM information_schema.TABLES \
         WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND TABLE_SCHEMA IN ({marks})"
    );
    let mut query = sqlx::query(&sql);
    for s in schemas {
        query = query.bind(s);
    }
    let rows = query
        .fetch_all(conn)
        .await
        .map_err(query_err(target, "reading table statistics"))?;
    let text = |row: &sqlx::mysql::MySqlRow, i: usize| -> Option<String> {
        row.try_get::<Option<String>, _>(i)
            .ok()
            .flatten()
            .or_else(|| {
                row.try_get::<Option<Vec<u8>>, _>(i)
                    .ok()
                    .flatten()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
            })
    };
    let time = |row: &sqlx::mysql::MySqlRow, i: usize| -> Option<DateTime<Utc>> {
        row.try_get::<Option<i64>, _>(i)
            .ok()
            .flatten()
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
    };
    Ok(rows
        .iter()
        .map(|row| {
            let mut stats = TableStats::new(
                text(row, 0).unwrap_or_default(),
                text(row, 1).unwrap_or_default(),
            );
            stats.estimated_rows = row
                .try_get::<Option<i64>, _>(2)
                .ok()
                .flatten()
                .map(|n| n.max(0) as u64);
            stats.created_at = time(row, 3);
            stats.updated_at = time(row, 4);
            for (key, index) in [("engine", 5), ("collation", 6)] {
                if let Some(value) = text(row, index).filter(|v| !v.is_empty()) {
                    stats.properties.insert(key.to_string(), value);
                }
            }
            stats
        })
        .collect())
}

/// SQLite: the row estimate `ANALYZE` stored in `sqlite_stat1`, else an
/// exact count when the file is small; otherwise none.
pub(crate) fn sqlite(conn: &rusqlite::Connection) -> rusqlite::Result<Vec<TableStats>> {
    let mut stats: Vec<TableStats> = {
        let mut stmt = conn.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             ORDER BY name",
        )?;
        let names = stmt
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        names
            .into_iter()
            .map(|name| TableStats::new("main".into(), name))
            .collect()
    };
    let has_stat1: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat1'",
        [],
        |row| row.get(0),
    )?;
    if has_stat1 {
        // The first number of every `stat` is the table's row count.
        let mut stmt =
            conn.prepare("SELECT tbl, max(CAST(stat AS INTEGER)) FROM sqlite_stat1 GROUP BY tbl")?;
        let estimates = stmt
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })?
            .collect::<rusqlite::Result<BTreeMap<_, _>>>()?;
        for s in &mut stats {
            s.estimated_rows = estimates.get(&s.table.table).map(|n| (*n).max(0) as u64);
        }
    }
    let size: i64 = conn.query_row(
        "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
        [],
        |row| row.get(0),
    )?;
    if size <= SQLITE_COUNT_LIMIT_BYTES {
        for s in stats.iter_mut().filter(|s| s.estimated_rows.is_none()) {
            let sql = format!(
                "SELECT count(*) FROM \"{}\"",
                s.table.table.replace('"', "\"\"")
            );
            // Best effort: a virtual table whose module is not loaded here
            // cannot be counted, and that is no reason to fail the scan.
            if let Ok(rows) = conn.query_row(&sql, [], |row| row.get::<_, i64>(0)) {
                s.estimated_rows = Some(rows.max(0) as u64);
            }
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_counts_small_files_and_prefers_analyze_statistics() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE a (id integer PRIMARY KEY, v text);
             CREATE INDEX a_v ON a (v);
             CREATE TABLE b (id integer);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
             INSERT INTO a (v) SELECT 'x' || i FROM n;",
        )
        .unwrap();
        let stats = sqlite(&conn).unwrap();
        let rows: Vec<(&str, Option<u64>)> = stats
            .iter()
            .map(|s| (s.table.table.as_str(), s.estimated_rows))
            .collect();
        assert_eq!(rows, [("a", Some(40)), ("b", Some(0))]);
        assert!(stats
            .iter()
            .all(|s| s.table.schema == "main" && s.created_at.is_none()));

        // After ANALYZE the stored estimate is used (and stays after more rows).
        conn.execute_batch("ANALYZE; INSERT INTO a (v) VALUES ('late');")
            .unwrap();
        let stats = sqlite(&conn).unwrap();
        assert_eq!(stats[0].estimated_rows, Some(40));
        // sqlite_stat1 itself is not a user table.
        assert_eq!(stats.len(), 2);
    }
}
