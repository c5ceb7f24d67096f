//! SQLite through rusqlite, with every call on tokio's blocking pool.
//!
//! The catalog and the one schema are both named `main`. Columns, keys,
//! indexes and foreign keys come from the `pragma_*` table functions in a
//! handful of set-based queries; what SQLite keeps only in the `CREATE TABLE`
//! text (constraint names, CHECK expressions, `AUTOINCREMENT`) is read from
//! that text, cut out verbatim.
//!
//! Decisions that keep introspection and rendering consistent:
//! - `identity` is true exactly for an `INTEGER PRIMARY KEY AUTOINCREMENT`
//!   column, which is what an identity integer key renders as. A plain
//!   `INTEGER PRIMARY KEY` (a rowid alias) also numbers rows by itself, but
//!   may reuse numbers; it reads as a non-identity, non-null integer key, and
//!   renders back the same way.
//! - Unnamed constraints get the names PostgreSQL would give them:
//!   `{table}_pkey`, `{table}_{columns}_key`, `{table}_{columns}_fkey`,
//!   `{table}_{column}_check` for a column's CHECK and `{table}_check`,
//!   `{table}_check1`, … for table CHECKs.
//! - Partial index predicates are not represented.

use crate::build::{self, RawColumn, RawForeignKey, RawIndex, RawKey, RawTable};
use crate::error::{DbError, ExecError};
use crate::spec::ConnectionSpec;
use crate::sqltext::{self, matching_close, split_top_level, tokenize, Token, TokenKind};
use crate::{Database, RowCount};
use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tidemark_model::{State, TableRef};
use tidemark_sql::{dialect, DialectKind};

/// A SQLite database file.
pub(crate) struct Sqlite {
    conn: Arc<Mutex<Connection>>,
    target: String,
}

impl Sqlite {
    pub(crate) async fn open(
        spec: &ConnectionSpec,
        path: &Path,
        create: bool,
    ) -> Result<Self, DbError> {
        let target = spec.redacted();
        let connect_err = |message: String| DbError::Connect {
            target: target.clone(),
            message,
        };
        let in_memory = path.as_os_str() == ":memory:";
        // Opening a mistyped path would silently create an empty database
        // and every later drift check would report all objects missing.
        if !create && !in_memory && !path.exists() {
            return Err(connect_err(
                "the file does not exist (add ?mode=rwc to the URL to create it)".into(),
            ));
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let path = path.to_path_buf();
        let conn = tokio::task::spawn_blocking(move || -> rusqlite::Result<Connection> {
            let conn = Connection::open_with_flags(&path, flags)?;
            conn.busy_timeout(Duration::from_secs(5))?;
            conn.execute_batch("PRAGMA foreign_keys = ON")?;
            // A file that is not a database only fails on first read.
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
            Ok(conn)
        })
        .await
        .map_err(|e| connect_err(e.to_string()))?
        .map_err(|e| connect_err(e.to_string()))?;
        Ok(Sqlite {
            conn: Arc::new(Mutex::new(conn)),
            target,
        })
    }

    /// The shared driver connection, for the data-transfer module.
    pub(crate) fn into_conn(self) -> Arc<Mutex<Connection>> {
        self.conn
    }

    /// Runs `f` on the connection on the blocking pool.
    async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> T + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic in an earlier call cannot leave SQLite itself in a bad
            // state; the connection stays usable.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| DbError::Query {
            target: self.target.clone(),
            action: "running a blocking SQLite call".into(),
            message: e.to_string(),
        })
    }
}

#[async_trait]
impl Database for Sqlite {
    fn kind(&self) -> DialectKind {
        DialectKind::Sqlite
    }

    fn target(&self) -> &str {
        &self.target
    }

    async fn ping(&mut self) -> Result<(), DbError> {
        let target = self.target.clone();
        self.run(|c| c.query_row("SELECT 1", [], |_| Ok(())))
            .await?
            .map_err(|e| query_error(&target, "ping", e))
    }

    async fn introspect(&mut self, schemas: &[String]) -> Result<State, DbError> {
        if !schemas.is_empty() && !schemas.iter().any(|s| s == "main") {
            return Ok(build::assemble("main", Vec::new(), Vec::new()));
        }
        let target = self.target.clone();
        let tables = self
            .run(read_tables)
            .await?
            .map_err(|(action, e)| query_error(&target, action, e))?;
        Ok(build::assemble(
            "main",
            vec![("main".to_string(), None)],
            tables,
        ))
    }

    async fn execute(
        &mut self,
        statements: &[String],
        transactional: bool,
    ) -> Result<(), ExecError> {
        let list = statements.to_vec();
        let outcome = self
            .run(
                move |conn| -> Result<(), (Option<usize>, rusqlite::Error, bool)> {
                    if !transactional {
                        for (index, sql) in list.iter().enumerate() {
                            conn.execute_batch(sql)
                                .map_err(|e| (Some(index), e, false))?;
                        }
                        return Ok(());
                    }
                    let tx = conn.transaction().map_err(|e| (None, e, false))?;
                    for (index, sql) in list.iter().enumerate() {
                        if let Err(e) = run_checked(&tx, sql) {
                            let rolled_back = tx.rollback().is_ok();
                            return Err((Some(index), e, rolled_back));
                        }
                    }
                    tx.commit().map_err(|e| (None, e, true))
                },
            )
            .await?;
        match outcome {
            Ok(()) => Ok(()),
            Err((Some(index), e, rolled_back)) => Err(ExecError::Statement {
                target: self.target.clone(),
                index,
                total: statements.len(),
                sql: statements[index].clone(),
                message: e.to_string(),
                rolled_back,
            }),
            Err((None, e, _)) => Err(ExecError::Db(query_error(
                &self.target,
                "beginning or committing the transaction",
                e,
            ))),
        }
    }

    async fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        let target = self.target.clone();
        let sql = sql.to_string();
        self.run(move |conn| -> rusqlite::Result<Vec<Vec<Option<String>>>> {
            let mut stmt = conn.prepare(&sql)?;
            let width = stmt.column_count();
            let rows = stmt.query_map([], |row| {
                (0..width)
                    .map(|i| {
                        use rusqlite::types::ValueRef;
                        Ok(match row.get_ref(i)? {
                            ValueRef::Null => None,
                            ValueRef::Integer(v) => Some(v.to_string()),
                            ValueRef::Real(v) => Some(v.to_string()),
                            ValueRef::Text(t) | ValueRef::Blob(t) => {
                                Some(String::from_utf8_lossy(t).into_owned())
                            }
                        })
                    })
                    .collect()
            })?;
            rows.collect()
        })
        .await?
        .map_err(|e| query_error(&target, "reading rows", e))
    }

    async fn table_stats(&mut self, schemas: &[String]) -> Result<Vec<crate::TableStats>, DbError> {
        // The one schema is `main`.
        if !schemas.is_empty() && !schemas.iter().any(|s| s == "main") {
            return Ok(Vec::new());
        }
        let target = self.target.clone();
        self.run(|conn| crate::table_stats::sqlite(conn))
            .await?
            .map_err(|e| query_error(&target, "reading table statistics", e))
    }

    async fn row_counts(&mut self, tables: &[TableRef]) -> Result<Vec<RowCount>, DbError> {
        let list = tables.to_vec();
        let outcome = self
            .run(
                move |conn| -> Result<Vec<RowCount>, (TableRef, rusqlite::Error)> {
                    list.into_iter()
                        .map(|t| {
                            let sql = format!(
                                "SELECT count(*) FROM {}.{}",
                                dialect(DialectKind::Sqlite).quote_ident(&t.schema),
                                dialect(DialectKind::Sqlite).quote_ident(&t.table)
                            );
                            match conn.query_row(&sql, [], |r| r.get::<_, i64>(0)) {
                                Ok(n) => Ok(RowCount {
                                    table: t,
                                    rows: n.max(0) as u64,
                                }),
                                Err(e) => Err((t, e)),
                            }
                        })
                        .collect()
                },
            )
            .await?;
        outcome.map_err(|(t, e)| {
            if e.to_string().contains("no such table") {
                DbError::NoSuchTable {
                    target: self.target.clone(),
                    schema: t.schema,
                    table: t.table,
                }
            } else {
                query_error(
                    &self.target,
                    &format!("counting rows of {}.{}", t.schema, t.table),
                    e,
                )
            }
        })
    }

    async fn close(self: Box<Self>) -> Result<(), DbError> {
        // rusqlite closes on drop; nothing can fail that the caller could act on.
        Ok(())
    }
}

/// Runs one statement of a plan. `PRAGMA foreign_key_check` reports broken
/// references as rows rather than failing, so it fails here when it finds
/// any, which rolls back a table rebuild that broke a foreign key.
fn run_checked(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    if sql
        .trim()
        .trim_end_matches(';')
        .eq_ignore_ascii_case("PRAGMA foreign_key_check")
    {
        let broken: i64 =
            conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if broken > 0 {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
                Some(format!(
                    "FOREIGN KEY constraint failed: {broken} row(s) reference missing rows"
                )),
            ));
        }
        return Ok(());
    }
    conn.execute_batch(sql)
}

fn query_error(target: &str, action: &str, e: rusqlite::Error) -> DbError {
    DbError::Query {
        target: target.to_string(),
        action: action.to_string(),
        message: e.to_string(),
    }
}

type ReadError = (&'static str, rusqlite::Error);

/// Reads every base table of `main`.
fn read_tables(conn: &mut Connection) -> Result<Vec<RawTable>, ReadError> {
    let mut tables: BTreeMap<String, RawTable> = BTreeMap::new();
    let mut create_sql: HashMap<String, String> = HashMap::new();
    // pragma_table_list tells base tables from virtual and shadow tables.
    {
        let mut stmt = conn
            .prepare(
                "SELECT t.name, m.sql FROM pragma_table_list AS t \
                 JOIN sqlite_master AS m ON m.name = t.name AND m.type = 'table' \
                 WHERE t.schema = 'main' AND t.type = 'table' AND t.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
            )
            .map_err(|e| ("reading tables", e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            })
            .map_err(|e| ("reading tables", e))?;
        for row in rows {
            let (name, sql) = row.map_err(|e| ("reading tables", e))?;
            create_sql.insert(name.clone(), sql.unwrap_or_default());
            tables.insert(
                name.clone(),
                RawTable {
                    schema: "main".into(),
                    name,
                    ..Default::default()
                },
            );
        }
    }

    // (table) → [(column name, pk position)] for key and identity decisions.
    let mut pk_positions: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    {
        let mut stmt = conn
            .prepare(
                "SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk \
                 FROM sqlite_master AS m JOIN pragma_table_xinfo(m.name) AS p \
                 WHERE m.type = 'table' AND p.hidden <> 1 ORDER BY m.name, p.cid",
            )
            .map_err(|e| ("reading columns", e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    r.get::<_, bool>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })
            .map_err(|e| ("reading columns", e))?;
        for row in rows {
            let (table, name, native, not_null, default, pk) =
                row.map_err(|e| ("reading columns", e))?;
            let Some(raw) = tables.get_mut(&table) else {
                continue;
            };
            if pk > 0 {
                pk_positions
                    .entry(table.clone())
                    .or_default()
                    .push((pk, name.clone()));
            }
            raw.columns.push(RawColumn {
                name,
                data_type: dialect(DialectKind::Sqlite).parse_native_type(&native),
                nullable: !not_null,
                default,
                comment: None,
                identity: false,
            });
        }
    }

    // Index list with columns; key columns only (pragma_index_info).
    // (table, index) → (unique, origin, [(cid, name)])
    type IndexEntry = (bool, String, Vec<(i64, Option<String>)>);
    let mut index_entries: BTreeMap<(String, String), IndexEntry> = BTreeMap::new();
    {
        let mut stmt = conn
            .prepare(
                "SELECT m.name, il.name, il.\"unique\", il.origin, ii.cid, ii.name \
                 FROM sqlite_master AS m JOIN pragma_index_list(m.name) AS il \
                 JOIN pragma_index_info(il.name) AS ii \
                 WHERE m.type = 'table' ORDER BY m.name, il.name, ii.seqno",
            )
            .map_err(|e| ("reading indexes", e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .map_err(|e| ("reading indexes", e))?;
        for row in rows {
            let (table, index, unique, origin, cid, column) =
                row.map_err(|e| ("reading indexes", e))?;
            index_entries
                .entry((table, index))
                .or_insert_with(|| (unique, origin, Vec::new()))
                .2
                .push((cid, column));
        }
    }
    let mut index_sql: HashMap<String, String> = HashMap::new();
    {
        let mut stmt = conn
            .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
            .map_err(|e| ("reading index definitions", e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| ("reading index definitions", e))?;
        for row in rows {
            let (name, sql) = row.map_err(|e| ("reading index definitions", e))?;
            index_sql.insert(name, sql);
        }
    }

    // (table, fk id) → fk, with columns in key order.
    let mut fks: BTreeMap<(String, i64), RawForeignKey> = BTreeMap::new();
    let mut fk_needs_parent_key: HashSet<(String, i64)> = HashSet::new();
    {
        let mut stmt = conn
            .prepare(
                "SELECT m.name, f.id, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete \
                 FROM sqlite_master AS m JOIN pragma_foreign_key_list(m.name) AS f \
                 WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq",
            )
            .map_err(|e| ("reading foreign keys", e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .map_err(|e| ("reading foreign keys", e))?;
        for row in rows {
            let (table, id, parent, from, to, on_update, on_delete) =
                row.map_err(|e| ("reading foreign keys", e))?;
            let fk = fks
                .entry((table.clone(), id))
                .or_insert_with(|| RawForeignKey {
                    name: String::new(),
                    columns: Vec::new(),
                    ref_schema: "main".into(),
                    ref_table: parent,
                    ref_columns: Vec::new(),
                    on_delete: build::fk_action(&on_delete),
                    on_update: build::fk_action(&on_update),
                });
            fk.columns.push(from);
            match to {
                Some(to) => fk.ref_columns.push(to),
                // `REFERENCES parent` with no columns means its primary key.
                None => {
                    fk_needs_parent_key.insert((table, id));
                }
            }
        }
    }
    let pk_of = |table: &str| -> Vec<String> {
        let mut cols = pk_positions.get(table).cloned().unwrap_or_default();
        cols.sort();
        cols.into_iter().map(|(_, c)| c).collect()
    };

    let mut fks_by_table: HashMap<String, Vec<RawForeignKey>> = HashMap::new();
    for ((table, id), mut fk) in fks {
        if fk_needs_parent_key.contains(&(table.clone(), id)) {
            fk.ref_columns = pk_of(&fk.ref_table);
        }
        fks_by_table.entry(table).or_default().push(fk);
    }

    for (name, raw) in tables.iter_mut() {
        let parsed = parse_create_table(create_sql.get(name).map_or("", String::as_str));
        let pk_columns = pk_of(name);
        if !pk_columns.is_empty() {
            raw.primary_key = Some(RawKey {
                name: parsed
                    .pk_name
                    .clone()
                    .unwrap_or_else(|| format!("{name}_pkey")),
                columns: pk_columns.clone(),
            });
        }
        // A lone INTEGER PRIMARY KEY of a rowid table is the rowid itself.
        if let [only] = pk_columns.as_slice() {
            if !parsed.without_rowid {
                if let Some(col) = raw.columns.iter_mut().find(|c| &c.name == only) {
                    if col.data_type == tidemark_model::DataType::Integer {
                        col.nullable = false;
                        col.identity = parsed.autoincrement;
                    }
                }
            }
        }

        let mut used_check_names: HashSet<String> = HashSet::new();
        for check in &parsed.checks {
            let name = match (&check.name, &check.column) {
                (Some(n), _) => n.clone(),
                (None, Some(col)) => unique_name(&used_check_names, format!("{name}_{col}_check")),
                (None, None) => unique_name(&used_check_names, format!("{name}_check")),
            };
            used_check_names.insert(name.clone());
            raw.checks.push((name, check.expression.clone()));
        }

        for ((table, index), (unique, origin, cols)) in
            index_entries.range((name.clone(), String::new())..)
        {
            if table != name {
                break;
            }
            let names: Vec<String> = cols.iter().filter_map(|(_, c)| c.clone()).collect();
            match origin.as_str() {
                "pk" => {}
                "u" => raw.uniques.push(RawKey {
                    name: parsed
                        .named_uniques
                        .iter()
                        .find(|(_, c)| c == &names)
                        .map(|(n, _)| n.clone())
                        .unwrap_or_else(|| format!("{name}_{}_key", names.join("_"))),
                    columns: names,
                }),
                _ => {
                    let expressions = index_sql
                        .get(index)
                        .map(|s| index_items(s))
                        .unwrap_or_default();
                    let columns = cols
                        .iter()
                        .enumerate()
                        .map(|(i, (_, c))| match c {
                            Some(c) => c.clone(),
                            None => expressions.get(i).cloned().unwrap_or_default(),
                        })
                        .collect();
                    raw.indexes.push(RawIndex {
                        name: index.clone(),
                        columns,
                        unique: *unique,
                    });
                }
            }
        }

        // pragma_foreign_key_list numbers keys from the last one declared,
        // so reversed they line up with the declarations in the text; two
        // keys over the same columns keep their own names that way.
        let mut used_fk_names: HashSet<String> = HashSet::new();
        let fks = fks_by_table.remove(name).unwrap_or_default();
        for (k, mut fk) in fks.into_iter().rev().enumerate() {
            let declared = parsed
                .foreign_keys
                .get(k)
                .filter(|(_, c)| *c == fk.columns)
                .and_then(|(n, _)| n.clone());
            fk.name = match declared {
                Some(n) => n,
                None => unique_name(
                    &used_fk_names,
                    format!("{name}_{}_fkey", fk.columns.join("_")),
                ),
            };
            used_fk_names.insert(fk.name.clone());
            raw.foreign_keys.push(fk);
        }
    }
    Ok(tables.into_values().collect())
}

/// `base`, or `base1`, `base2`, … if taken.
fn unique_name(used: &HashSet<String>, base: String) -> String {
    let mut candidate = base.clone();
    let mut n = 0;
    while used.contains(&candidate) {
        n += 1;
        candidate = format!("{base}{n}");
    }
    candidate
}

/// A CHECK found in `CREATE TABLE` text.
#[derive(Debug, PartialEq, Eq)]
struct ParsedCheck {
    name: Option<String>,
    /// The column it was declared on, for a column constraint.
    column: Option<String>,
    expression: String,
}

/// What only the `CREATE TABLE` text knows.
#[derive(Debug, Default, PartialEq, Eq)]
struct ParsedCreate {
    pk_name: Option<String>,
    autoincrement: bool,
    without_rowid: bool,
    checks: Vec<ParsedCheck>,
    named_uniques: Vec<(String, Vec<String>)>,
    /// Every foreign key in declaration order: its name, if given, and columns.
    foreign_keys: Vec<(Option<String>, Vec<String>)>,
}

/// Words that start a column or table constraint; a pending
/// `CONSTRAINT name` belongs to the next one of these.
const CONSTRAINT_STARTS: &[&str] = &[
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "COLLATE",
    "REFERENCES",
    "FOREIGN",
    "GENERATED",
    "AS",
];

fn parse_create_table(sql: &str) -> ParsedCreate {
    let mut out = ParsedCreate::default();
    let tokens = tokenize(sql);
    let Some(open) = tokens.iter().position(|t| t.kind == TokenKind::Open) else {
        return out;
    };
    let Some(close) = matching_close(&tokens, open) else {
        return out;
    };
    out.without_rowid = tokens[close + 1..]
        .windows(2)
        .any(|w| w[0].is_word("WITHOUT") && w[1].is_word("ROWID"));
    for (a, b) in split_top_level(&tokens, open + 1, close) {
        let first = &tokens[a];
        let is_table_constraint = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
            .iter()
            .any(|k| first.is_word(k));
        let (column, start) = if is_table_constraint {
            (None, a)
        } else {
            (first.ident(), a + 1)
        };
        parse_constraints(sql, &tokens, start, b, column, &mut out);
    }
    out
}

/// Walks the constraint clauses of one column definition or table
/// constraint, `tokens[from..to]`.
fn parse_constraints(
    sql: &str,
    tokens: &[Token],
    from: usize,
    to: usize,
    column: Option<String>,
    out: &mut ParsedCreate,
) {
    let mut pending: Option<String> = None;
    let mut i = from;
    let group_after = |i: usize| -> Option<(usize, usize)> {
        (tokens.get(i)?.kind == TokenKind::Open && i < to)
            .then(|| matching_close(tokens, i).map(|c| (i, c)))
            .flatten()
    };
    let names_in = |open: usize, close: usize| -> Vec<String> {
        split_top_level(tokens, open + 1, close)
            .into_iter()
            .filter_map(|(a, _)| tokens[a].ident())
            .collect()
    };
    while i < to {
        let t = &tokens[i];
        if t.is_word("CONSTRAINT") {
            pending = tokens.get(i + 1).and_then(Token::ident);
            i += 2;
            continue;
        }
        let starts = CONSTRAINT_STARTS.iter().any(|k| t.is_word(k));
        let name = if starts { pending.take() } else { None };
        if t.is_word("AUTOINCREMENT") {
            out.autoincrement = true;
        } else if t.is_word("PRIMARY") {
            out.pk_name = name;
        } else if t.is_word("UNIQUE") {
            let cols = match (&column, group_after(i + 1)) {
                (Some(c), _) => vec![c.clone()],
                (None, Some((o, c))) => names_in(o, c),
                (None, None) => Vec::new(),
            };
            if let Some(n) = name {
                out.named_uniques.push((n, cols));
            }
        } else if t.is_word("FOREIGN") {
            // FOREIGN KEY (cols) REFERENCES …
            if let Some((o, c)) = group_after(i + 2) {
                out.foreign_keys.push((name, names_in(o, c)));
                i = c + 1;
                // Skip the REFERENCES clause so it is not read as a column one.
                while i < to && !tokens[i].is_word("REFERENCES") {
                    i += 1;
                }
                i += 1;
                continue;
            }
        } else if t.is_word("REFERENCES") {
            if let Some(c) = &column {
                out.foreign_keys.push((name, vec![c.clone()]));
            }
        } else if t.is_word("CHECK") {
            if let Some((o, c)) = group_after(i + 1) {
                if c > o + 1 {
                    out.checks.push(ParsedCheck {
                        name,
                        column: column.clone(),
                        expression: sqltext::span(sql, tokens, o + 1, c - 1).to_string(),
                    });
                }
                i = c + 1;
                continue;
            }
        }
        // Parenthesised parts (types, DEFAULT expressions, column lists) hold
        // no constraint keywords of this definition.
        if t.kind == TokenKind::Open {
            i = matching_close(tokens, i).map_or(to, |c| c + 1);
            continue;
        }
        i += 1;
    }
}

/// The key parts of a `CREATE INDEX` statement, as written (an expression
/// part is kept verbatim, without a trailing `ASC`/`DESC`).
fn index_items(sql: &str) -> Vec<String> {
    let tokens = tokenize(sql);
    let Some(on) = tokens.iter().position(|t| t.is_word("ON")) else {
        return Vec::new();
    };
    let Some(open) = tokens[on..]
        .iter()
        .position(|t| t.kind == TokenKind::Open)
        .map(|p| on + p)
    else {
        return Vec::new();
    };
    let Some(close) = matching_close(&tokens, open) else {
        return Vec::new();
    };
    split_top_level(&tokens, open + 1, close)
        .into_iter()
        .map(|(a, b)| {
            let mut last = b - 1;
            if last > a && (tokens[last].is_word("ASC") || tokens[last].is_word("DESC")) {
                last -= 1;
            }
            sqltext::span(sql, &tokens, a, last).to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_table_text_yields_names_checks_and_autoincrement() {
        let parsed = parse_create_table(
            "CREATE TABLE \"order\" (\n\
               id INTEGER PRIMARY KEY AUTOINCREMENT,\n\
               qty INT NOT NULL DEFAULT (1) CHECK (qty > 0),\n\
               note TEXT CONSTRAINT note_len CHECK (length(note) < 10) CONSTRAINT note_uq UNIQUE,\n\
               cust INT CONSTRAINT order_cust_fk REFERENCES customer (id) ON DELETE CASCADE,\n\
               a INT, b INT,\n\
               CONSTRAINT ab_uq UNIQUE (a, \"b\"),\n\
               CHECK (a < b),\n\
               CONSTRAINT ab_fk FOREIGN KEY (a, b) REFERENCES pair (x, y)\n\
             )",
        );
        assert!(parsed.autoincrement);
        assert!(!parsed.without_rowid);
        assert_eq!(parsed.pk_name, None);
        assert_eq!(
            parsed.checks,
            vec![
                ParsedCheck {
                    name: None,
                    column: Some("qty".into()),
                    expression: "qty > 0".into()
                },
                ParsedCheck {
                    name: Some("note_len".into()),
                    column: Some("note".into()),
                    expression: "length(note) < 10".into()
                },
                ParsedCheck {
                    name: None,
                    column: None,
                    expression: "a < b".into()
                },
            ]
        );
        assert_eq!(
            parsed.named_uniques,
            vec![
                ("note_uq".to_string(), vec!["note".to_string()]),
                ("ab_uq".to_string(), vec!["a".to_string(), "b".to_string()]),
            ]
        );
        assert_eq!(
            parsed.foreign_keys,
            vec![
                (Some("order_cust_fk".to_string()), vec!["cust".to_string()]),
                (
                    Some("ab_fk".to_string()),
                    vec!["a".to_string(), "b".to_string()]
                ),
            ]
        );
    }

    #[test]
    fn check_keywords_inside_strings_and_defaults_are_ignored() {
        let parsed = parse_create_table(
            "CREATE TABLE t (a TEXT DEFAULT ('CHECK (x)'), CONSTRAINT pk PRIMARY KEY (a)) WITHOUT ROWID",
        );
        assert!(parsed.checks.is_empty());
        assert_eq!(parsed.pk_name.as_deref(), Some("pk"));
        assert!(parsed.without_rowid);
    }

    #[test]
    fn index_items_keep_expressions_and_drop_sort_order() {
        assert_eq!(
            index_items("CREATE INDEX i ON t (lower(name) DESC, \"b\", (a + 1))"),
            vec!["lower(name)", "\"b\"", "(a + 1)"]
        );
    }
}
