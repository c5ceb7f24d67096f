//! No false drift: a database created from a DDL file under `fixtures/ddl/`
//! and read back shows no difference, neither from a second read nor from
//! the same file imported into a project (both sides normalized, as a drift
//! check does). The fixtures use identity and serial columns, defaults of
//! every common shape, composite and cross-schema keys, checks, comments,
//! and unicode and reserved-word names.

mod common;

use chrono::{TimeZone, Utc};
use common::{statements, strings, MyDb, PgDb};
use tidemark_db::{connect, ConnectionSpec, Database, DialectKind};
use tidemark_model::{diff, ObjectId, Op, Reducer, State};
use tidemark_sql::parse::{import_ddl, ImportContext, SourceDialect};
use tidemark_sql::{describe, dialect};

const POSTGRES: &str = include_str!("../../../fixtures/ddl/postgres.sql");
const MYSQL: &str = include_str!("../../../fixtures/ddl/mysql.sql");
const SQLITE: &str = include_str!("../../../fixtures/ddl/sqlite.sql");

/// The project state the DDL file describes: imported into an empty state,
/// the ops applied with the model's reducer.
fn imported(sql: &str, from: SourceDialect, catalog: &str, default_schema: &str) -> State {
    let mut n = 0;
    let mut new_id = |prefix: &str| {
        n += 1;
        ObjectId::new(format!("{prefix}_{n}"))
    };
    let mut ctx = ImportContext {
        catalog,
        default_schema,
        new_id: &mut new_id,
    };
    let import = import_ddl(sql, from, &State::default(), &mut ctx).expect("the fixture imports");
    assert!(
        import.skipped.is_empty(),
        "the fixture is all schema DDL, yet the import skipped: {:?}",
        import.skipped
    );
    let mut reducer = Reducer::new(State::default());
    for (i, op) in import.ops.into_iter().enumerate() {
        let op = Op {
            id: format!("op_{i}"),
            ts: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
            target: op.target,
            action: op.action,
        };
        reducer
            .apply(&op)
            .unwrap_or_else(|e| panic!("imported op {i} is rejected: {e}"));
    }
    reducer.into_state()
}

/// Fails with the differences a drift check would report.
fn assert_no_drift(kind: DialectKind, expected: &State, actual: &State, what: &str) {
    let d = dialect(kind);
    let changes = diff(&d.normalize(expected), &d.normalize(actual));
    let lines: Vec<String> = changes
        .iter()
        .map(|c| format!("{}  {}", describe(c), serde_json::to_string(c).unwrap()))
        .collect();
    assert!(lines.is_empty(), "{what}:\n  {}", lines.join("\n  "));
}

fn table_names(state: &State) -> Vec<String> {
    state.catalogs[0]
        .schemas
        .iter()
        .flat_map(|s| s.tables.iter().map(|t| format!("{}.{}", s.name, t.name)))
        .collect()
}

/// How many of each feature the fixture exercises a state holds, so that a
/// test cannot pass because both sides lost the same things.
#[derive(Debug, PartialEq, Eq)]
struct Features {
    identity: usize,
    defaults: usize,
    comments: usize,
    composite_keys: usize,
    foreign_keys: usize,
    checks: usize,
    indexes: usize,
}

fn features(state: &State) -> Features {
    let tables: Vec<_> = state.catalogs[0]
        .schemas
        .iter()
        .flat_map(|s| &s.tables)
        .collect();
    let columns = || tables.iter().flat_map(|t| &t.columns);
    Features {
        identity: columns().filter(|c| c.identity).count(),
        defaults: columns().filter(|c| c.default.is_some()).count(),
        comments: columns().filter(|c| c.comment.is_some()).count()
            + tables.iter().filter(|t| t.comment.is_some()).count(),
        composite_keys: tables
            .iter()
            .filter(|t| t.primary_key.as_ref().is_some_and(|k| k.columns.len() > 1))
            .count(),
        foreign_keys: tables.iter().map(|t| t.foreign_keys.len()).sum(),
        checks: tables.iter().map(|t| t.checks.len()).sum(),
        indexes: tables
            .iter()
            .map(|t| t.indexes.len() + t.uniques.len())
            .sum(),
    }
}

/// Reads the database twice and compares both reads with each other and
/// with the imported file; returns the first read.
async fn check(
    db: &mut dyn Database,
    schemas: &[String],
    project: &State,
    kind: DialectKind,
) -> State {
    let first = db.introspect(schemas).await.unwrap();
    let second = db.introspect(schemas).await.unwrap();
    assert_eq!(first, second, "two reads of an unchanged database");
    assert_no_drift(kind, &first, &second, "read twice");
    assert_no_drift(
        kind,
        project,
        &first,
        "the imported file against the database",
    );
    first
}

#[tokio::test]
async fn postgres_fixture_shows_no_false_drift() {
    let pg = PgDb::create().await;
    let mut db = pg.connect().await;
    db.execute(&statements(POSTGRES), true).await.unwrap();
    let project = imported(POSTGRES, SourceDialect::Postgres, &pg.name, "public");
    let live = check(
        db.as_mut(),
        &strings(&["shop", "ünï"]),
        &project,
        DialectKind::Postgres,
    )
    .await;
    assert_eq!(
        table_names(&live),
        [
            "shop.customer",
            "shop.order",
            "shop.order_line",
            "shop.select",
            "ünï.naïve"
        ]
    );
    assert_eq!(
        features(&live),
        Features {
            identity: 2,
            defaults: 13,
            comments: 4,
            composite_keys: 2,
            foreign_keys: 3,
            checks: 4,
            indexes: 3,
        }
    );
    db.close().await.unwrap();
}

#[tokio::test]
async fn mariadb_fixture_shows_no_false_drift() {
    let my = MyDb::create().await;
    let mut db = my.connect().await;
    db.execute(&statements(MYSQL), false).await.unwrap();
    let project = imported(MYSQL, SourceDialect::Mysql, &my.name, &my.name);
    let live = check(db.as_mut(), &[], &project, DialectKind::Mysql).await;
    let schema = &my.name;
    assert_eq!(
        table_names(&live),
        ["customer", "naïve", "order", "order_line", "select"].map(|t| format!("{schema}.{t}"))
    );
    // `DEFAULT NULL` is no default; MySQL's own index for a key is no index;
    // MariaDB's JSON check makes a JSON column, not a check.
    assert_eq!(
        features(&live),
        Features {
            identity: 2,
            defaults: 10,
            comments: 4,
            composite_keys: 2,
            foreign_keys: 3,
            checks: 4,
            indexes: 2,
        }
    );
    db.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_fixture_shows_no_false_drift() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}?mode=rwc", dir.path().join("shop.db").display());
    let mut db = connect(&ConnectionSpec::parse(&url).unwrap(), None)
        .await
        .unwrap();
    db.execute(&statements(SQLITE), true).await.unwrap();
    let project = imported(SQLITE, SourceDialect::Sqlite, "main", "main");
    let live = check(db.as_mut(), &[], &project, DialectKind::Sqlite).await;
    assert_eq!(
        table_names(&live),
        [
            "main.customer",
            "main.naïve",
            "main.order",
            "main.order_line",
            "main.select"
        ]
    );
    // SQLite stores no comments.
    assert_eq!(
        features(&live),
        Features {
            identity: 2,
            defaults: 12,
            comments: 0,
            composite_keys: 2,
            foreign_keys: 3,
            checks: 4,
            indexes: 3,
        }
    );
    db.close().await.unwrap();
}
