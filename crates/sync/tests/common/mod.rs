//! Shared sync test helpers: throwaway databases on the local servers (each
//! dropped when its guard goes out of scope, also when a test panics), a
//! seeded workload generator that keeps a model of what the source holds,
//! and a reader that compares a table with the model row by row.
#![allow(dead_code)]

use std::collections::BTreeMap;
use tidemark_db::transfer::{self, Endpoint, ExtractRequest, Start, TableName, ValueKind};
use tidemark_db::{connect, ConnectionSpec};
use tokio::sync::mpsc;

pub const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const MYSQL_ADMIN: &str = "mysql://root@127.0.0.1:3306/mysql";

/// Which database a side of a sync lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pg,
    My,
    Lite,
}

fn unique_name() -> String {
    format!(
        "tm_sync_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    )
}

fn spec(url: &str) -> ConnectionSpec {
    ConnectionSpec::parse(url).expect("valid test URL")
}

async fn admin(url: &str, statements: Vec<String>) {
    let mut db = connect(&spec(url), None).await.expect("admin connection");
    db.execute(&statements, false)
        .await
        .expect("admin statements");
    db.close().await.expect("close");
}

/// A fresh database of one kind, dropped (or deleted) on drop.
pub struct TestDb {
    pub kind: Kind,
    pub name: String,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn create(kind: Kind) -> TestDb {
        let name = unique_name();
        match kind {
            Kind::Pg => {
                admin(PG_ADMIN, vec![format!("CREATE DATABASE \"{name}\"")]).await;
                TestDb {
                    kind,
                    url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
                    name,
                    _dir: None,
                }
            }
            Kind::My => {
                admin(
                    MYSQL_ADMIN,
                    vec![format!(
                        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    )],
                )
                .await;
                TestDb {
                    kind,
                    url: format!("mysql://root@127.0.0.1:3306/{name}"),
                    name,
                    _dir: None,
                }
            }
            Kind::Lite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join(format!("{name}.db"));
                TestDb {
                    kind,
                    url: format!("sqlite:{}?mode=rwc", path.display()),
                    name,
                    _dir: Some(dir),
                }
            }
        }
    }

    pub fn spec(&self) -> ConnectionSpec {
        spec(&self.url)
    }

    /// Runs statements (not in one transaction).
    pub async fn exec(&self, statements: &[String]) {
        let mut db = connect(&self.spec(), None).await.expect("connect");
        if let Err(e) = db.execute(statements, false).await {
            panic!("{e}");
        }
        db.close().await.expect("close");
    }

    pub async fn endpoint(&self) -> Box<dyn Endpoint> {
        transfer::open(&self.spec(), None)
            .await
            .expect("open endpoint")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let statement = match self.kind {
            Kind::Pg => format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
            Kind::My => format!("DROP DATABASE IF EXISTS `{}`", self.name),
            Kind::Lite => return,
        };
        let url = if self.kind == Kind::Pg {
            PG_ADMIN
        } else {
            MYSQL_ADMIN
        };
        let handle = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(admin(url, vec![statement]))
        });
        if handle.join().is_err() {
            eprintln!("warning: could not drop a test database");
        }
    }
}

/// A small deterministic random generator (SplitMix64), so a failing seed
/// replays exactly.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The seed from `TIDEMARK_TEST_SEED`, else from the clock; printed so a
    /// failure can be replayed.
    pub fn seed(test: &str) -> u64 {
        let seed = std::env::var("TIDEMARK_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("{test}: seed {seed} (replay with TIDEMARK_TEST_SEED={seed})");
        seed
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One row of the test table `items`.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: i64,
    /// Microseconds since 2024-01-01 00:00:00.
    pub updated_us: i64,
    pub name: String,
    /// Cents.
    pub amount: Option<i64>,
    pub active: bool,
    /// Days since 2000-01-01.
    pub born: Option<i64>,
    pub data: Option<Vec<u8>>,
    pub note: Option<String>,
}

const NAMES: &[&str] = &[
    "Ada",
    "Zoë",
    "O'Brien",
    "Ōsaka",
    "李雷",
    "naïve café",
    "Bob \"the\" Builder",
    "ümlaut",
    "😀 smile",
];

pub fn ts_text(us: i64) -> String {
    let base = chrono::NaiveDate::from_ymd_opt(2024, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    (base + chrono::Duration::microseconds(us))
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string()
}

fn date_text(days: i64) -> String {
    (chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

fn cents_text(c: i64) -> String {
    let sign = if c < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", c.abs() / 100, c.abs() % 100)
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The model of the source table, and SQL that makes the source match it.
pub struct Workload {
    pub kind: Kind,
    pub rows: BTreeMap<i64, Item>,
    pub clock_us: i64,
    pub next_id: i64,
    pub rng: Rng,
}

impl Workload {
    pub fn new(kind: Kind, seed: u64) -> Workload {
        Workload {
            kind,
            rows: BTreeMap::new(),
            clock_us: 1_000_000,
            next_id: 1,
            rng: Rng::new(seed),
        }
    }

    pub fn create_table(&self) -> Vec<String> {
        match self.kind {
            Kind::Pg => vec![
                "CREATE TABLE items (id bigint PRIMARY KEY, updated_at timestamp(6) NOT NULL, \
                 name varchar(100) NOT NULL, amount numeric(12,2), active boolean NOT NULL, \
                 born date, data bytea, note text)"
                    .into(),
                "CREATE INDEX items_cursor ON items (updated_at, id)".into(),
            ],
            Kind::My => vec!["CREATE TABLE items (id bigint PRIMARY KEY, updated_at datetime(6) NOT NULL, \
                 name varchar(100) NOT NULL, amount decimal(12,2), active tinyint(1) NOT NULL, \
                 born date, data longblob, note text, INDEX items_cursor (updated_at, id)) ENGINE=InnoDB"
                .into()],
            Kind::Lite => vec![
                "CREATE TABLE items (id INTEGER PRIMARY KEY, updated_at DATETIME NOT NULL, \
                 name TEXT NOT NULL, amount DECIMAL(12,2), active BOOLEAN NOT NULL, \
                 born DATE, data BLOB, note TEXT)"
                    .into(),
                "CREATE INDEX items_cursor ON items (updated_at, id)".into(),
            ],
        }
    }

    fn bool_lit(&self, b: bool) -> &'static str {
        match (self.kind, b) {
            (Kind::Lite, true) => "1",
            (Kind::Lite, false) => "0",
            (_, true) => "TRUE",
            (_, false) => "FALSE",
        }
    }

    fn blob_lit(&self, b: &Option<Vec<u8>>) -> String {
        match (b, self.kind) {
            (None, _) => "NULL".into(),
            (Some(b), Kind::Pg) => format!("'\\x{}'::bytea", hex(b)),
            (Some(b), _) => format!("X'{}'", hex(b)),
        }
    }

    fn values(&self, r: &Item) -> String {
        format!(
            "({}, {}, {}, {}, {}, {}, {}, {})",
            r.id,
            quote(&ts_text(r.updated_us)),
            quote(&r.name),
            r.amount.map(cents_text).unwrap_or_else(|| "NULL".into()),
            self.bool_lit(r.active),
            r.born
                .map(|d| quote(&date_text(d)))
                .unwrap_or_else(|| "NULL".into()),
            self.blob_lit(&r.data),
            r.note
                .as_deref()
                .map(quote)
                .unwrap_or_else(|| "NULL".into()),
        )
    }

    fn random_item(&mut self, id: i64, updated_us: i64) -> Item {
        let name = format!(
            "{} {}",
            NAMES[self.rng.below(NAMES.len() as u64) as usize],
            self.rng.below(1000)
        );
        Item {
            id,
            updated_us,
            name,
            amount: (!self.rng.chance(10)).then(|| self.rng.below(2_000_000) as i64 - 1_000_000),
            active: self.rng.chance(50),
            born: (!self.rng.chance(20)).then(|| self.rng.below(9000) as i64),
            data: (!self.rng.chance(30)).then(|| {
                (0..self.rng.below(12))
                    .map(|_| self.rng.below(256) as u8)
                    .collect()
            }),
            note: (!self.rng.chance(40)).then(|| format!("note {}", self.rng.next() % 100_000)),
        }
    }

    fn insert_sql(&self, rows: &[Item]) -> Vec<String> {
        rows.chunks(200)
            .map(|chunk| {
                format!(
                    "INSERT INTO items (id, updated_at, name, amount, active, born, data, note) VALUES {}",
                    chunk.iter().map(|r| self.values(r)).collect::<Vec<_>>().join(", ")
                )
            })
            .collect()
    }

    /// Inserts `n` rows; `tie` of them share one timestamp.
    pub fn insert(&mut self, n: usize, tie: usize) -> Vec<String> {
        let mut rows = Vec::new();
        self.clock_us += 1 + self.rng.below(1_000_000) as i64;
        let shared = self.clock_us;
        for i in 0..n {
            let ts = if i < tie {
                shared
            } else {
                self.clock_us += 1 + self.rng.below(50_000) as i64;
                self.clock_us
            };
            let id = self.next_id;
            self.next_id += 1;
            let item = self.random_item(id, ts);
            rows.push(item.clone());
            self.rows.insert(id, item);
        }
        self.insert_sql(&rows)
    }

    /// Updates about `percent`% of the rows with a newer timestamp; `late`
    /// of them get a timestamp `late_by_us` before the newest one synced
    /// (`behind`), as if their transaction committed late.
    pub fn update(
        &mut self,
        percent: u64,
        late: usize,
        behind: i64,
        late_by_us: i64,
    ) -> Vec<String> {
        let ids: Vec<i64> = self.rows.keys().copied().collect();
        let mut out = Vec::new();
        let mut late_left = late;
        self.clock_us += 1 + self.rng.below(1_000_000) as i64;
        for id in ids {
            if !self.rng.chance(percent) {
                continue;
            }
            let ts = if late_left > 0 {
                late_left -= 1;
                behind - late_by_us
            } else {
                self.clock_us += 1 + self.rng.below(20_000) as i64;
                self.clock_us
            };
            // The UPDATE leaves born and data as they were.
            let old = self.rows[&id].clone();
            let mut fresh = self.random_item(id, ts);
            fresh.born = old.born;
            fresh.data = old.data;
            self.rows.insert(id, fresh.clone());
            out.push(format!(
                "UPDATE items SET updated_at = {}, name = {}, amount = {}, active = {}, note = {} WHERE id = {id}",
                quote(&ts_text(ts)),
                quote(&fresh.name),
                fresh.amount.map(cents_text).unwrap_or_else(|| "NULL".into()),
                self.bool_lit(fresh.active),
                fresh.note.as_deref().map(quote).unwrap_or_else(|| "NULL".into()),
            ));
        }
        out
    }

    /// Deletes about `percent`% of the rows.
    pub fn delete(&mut self, percent: u64) -> Vec<String> {
        let ids: Vec<i64> = self.rows.keys().copied().collect();
        let gone: Vec<i64> = ids
            .into_iter()
            .filter(|_| self.rng.chance(percent))
            .collect();
        for id in &gone {
            self.rows.remove(id);
        }
        gone.chunks(200)
            .map(|c| {
                format!(
                    "DELETE FROM items WHERE id IN ({})",
                    c.iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect()
    }

    /// The newest timestamp in the model.
    pub fn newest_us(&self) -> i64 {
        self.rows.values().map(|r| r.updated_us).max().unwrap_or(0)
    }

    /// The model as the comparison reads tables: key → cells as text.
    pub fn expected(&self) -> BTreeMap<String, Vec<Option<String>>> {
        self.rows
            .values()
            .map(|r| {
                (
                    r.id.to_string(),
                    vec![
                        Some(r.id.to_string()),
                        Some(ts_text(r.updated_us)),
                        Some(r.name.clone()),
                        r.amount.map(|c| normalize(&cents_text(c))),
                        Some(r.active.to_string()),
                        r.born.map(date_text),
                        r.data.as_ref().map(|d| format!("\\x{}", hex(d))),
                        r.note.clone(),
                    ],
                )
            })
            .collect()
    }
}

fn normalize(d: &str) -> String {
    let (neg, body) = d.strip_prefix('-').map(|b| (true, b)).unwrap_or((false, d));
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let frac = frac.trim_end_matches('0');
    let s = if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    };
    if neg && s != "0" {
        format!("-{s}")
    } else {
        s
    }
}

/// Reads a whole table (its first `width` columns, or all) ordered by
/// `key`, as text cells keyed by the key's text; with `current_only`, only
/// rows whose `is_current` is true (SCD2).
pub async fn read_table(
    db: &TestDb,
    table: &str,
    key: &str,
    width: Option<usize>,
    current_only: bool,
) -> (BTreeMap<String, Vec<Option<String>>>, usize) {
    let mut ep = db.endpoint().await;
    let name = ep.resolve(&TableName::parse(table)).await.unwrap();
    let info = ep.describe(&name).await.unwrap().expect("table exists");
    let mut order = vec![key.to_string()];
    let current_idx = info.columns.iter().position(|c| c.name == "is_current");
    if current_only {
        order.push("valid_from".into());
    }
    let req = ExtractRequest {
        table: name,
        columns: info.columns.clone(),
        order,
        start: Start::All,
        batch_size: 1000,
    };
    let (tx, mut rx) = mpsc::channel::<transfer::ExtractedBatch>(4);
    let kinds: Vec<ValueKind> = info.columns.iter().map(|c| c.kind.clone()).collect();
    let collect = async {
        let mut rows = Vec::new();
        while let Some(b) = rx.recv().await {
            let refs: Vec<&ValueKind> = kinds.iter().collect();
            rows.extend(transfer::row_cells_text(&b.batch, &refs));
        }
        rows
    };
    let (extracted, rows) = tokio::join!(ep.extract(&req, tx), collect);
    extracted.expect("read table");
    let key_idx = info.columns.iter().position(|c| c.name == key).unwrap();
    let mut out = BTreeMap::new();
    let mut count = 0;
    for mut row in rows {
        if current_only {
            let current = current_idx.and_then(|i| row[i].clone());
            if current.as_deref() != Some("true") && current.as_deref() != Some("1") {
                continue;
            }
        }
        count += 1;
        let k = row[key_idx].clone().unwrap_or_default();
        if let Some(w) = width {
            row.truncate(w);
        }
        if out.insert(k.clone(), row).is_some() {
            panic!("key {k} appears twice in {table}");
        }
    }
    (out, count)
}

/// Asserts two tables (as read by [`read_table`]) are equal, reporting the
/// first few differing keys.
pub fn assert_same(
    what: &str,
    actual: &BTreeMap<String, Vec<Option<String>>>,
    expected: &BTreeMap<String, Vec<Option<String>>>,
) {
    let mut problems = Vec::new();
    for (k, e) in expected {
        match actual.get(k) {
            None => problems.push(format!("missing key {k}")),
            Some(a) if a != e => problems.push(format!("key {k}: got {a:?}, expected {e:?}")),
            _ => {}
        }
    }
    for k in actual.keys() {
        if !expected.contains_key(k) {
            problems.push(format!("extra key {k}"));
        }
    }
    if !problems.is_empty() {
        panic!(
            "{what}: {} differences ({} rows expected, {} found), first ones:\n{}",
            problems.len(),
            expected.len(),
            actual.len(),
            problems
                .iter()
                .take(8)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// Every row of a table ordered by `order`, as text cells, with the column
/// names.
pub async fn read_rows(
    db: &TestDb,
    table: &str,
    order: &[&str],
) -> (Vec<String>, Vec<Vec<Option<String>>>) {
    let mut ep = db.endpoint().await;
    let name = ep.resolve(&TableName::parse(table)).await.unwrap();
    let info = ep.describe(&name).await.unwrap().expect("table exists");
    let req = ExtractRequest {
        table: name,
        columns: info.columns.clone(),
        order: order.iter().map(|s| s.to_string()).collect(),
        start: Start::All,
        batch_size: 1000,
    };
    let (tx, mut rx) = mpsc::channel::<transfer::ExtractedBatch>(4);
    let kinds: Vec<ValueKind> = info.columns.iter().map(|c| c.kind.clone()).collect();
    let collect = async {
        let mut rows = Vec::new();
        while let Some(b) = rx.recv().await {
            let refs: Vec<&ValueKind> = kinds.iter().collect();
            rows.extend(transfer::row_cells_text(&b.batch, &refs));
        }
        rows
    };
    let (extracted, rows) = tokio::join!(ep.extract(&req, tx), collect);
    extracted.expect("read table");
    (info.columns.iter().map(|c| c.name.clone()).collect(), rows)
}

/// Checks an SCD2 table's history: at most one current version per key,
/// and no two consecutive versions of a key with the same data (which a
/// replayed batch would leave).
pub async fn assert_scd2_history(db: &TestDb, table: &str, data_columns: usize) {
    let (names, rows) = read_rows(db, table, &["id", "valid_from"]).await;
    let current = names.iter().position(|n| n == "is_current").unwrap();
    let mut last: Option<&Vec<Option<String>>> = None;
    let mut currents = std::collections::HashMap::new();
    for row in &rows {
        if row[current].as_deref() == Some("true") {
            *currents.entry(row[0].clone()).or_insert(0) += 1;
        }
        if let Some(prev) = last {
            if prev[0] == row[0] && prev[..data_columns] == row[..data_columns] {
                panic!(
                    "{table}: key {:?} has two identical consecutive versions",
                    row[0]
                );
            }
        }
        last = Some(row);
    }
    if let Some((k, n)) = currents.iter().find(|(_, n)| **n > 1) {
        panic!("{table}: key {k:?} has {n} current versions");
    }
}
