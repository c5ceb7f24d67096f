//! Generated pairs of states round-trip through SQLite: each plan (table
//! rebuilds included), applied to a database file and read back, gives
//! exactly the state it was planned for (and its down plan gives back the
//! first, when it loses nothing). A fresh file per pair.

mod common;
mod roundtrip;

use async_trait::async_trait;
use roundtrip::{check_round_trips, Fresh, Sandbox};
use std::path::PathBuf;
use tidemark_db::{connect, ConnectionSpec, Database, DialectKind};

struct Sqlite {
    dir: tempfile::TempDir,
    pair: usize,
    open: Option<(PathBuf, Box<dyn Database>)>,
}

#[async_trait(?Send)]
impl Sandbox for Sqlite {
    async fn fresh(&mut self) -> Result<Fresh, String> {
        self.pair += 1;
        let path = self.dir.path().join(format!("pair_{}.db", self.pair));
        let url = format!("sqlite:{}?mode=rwc", path.display());
        let spec = ConnectionSpec::parse(&url).map_err(|e| e.to_string())?;
        let db = connect(&spec, None).await.map_err(|e| e.to_string())?;
        self.open = Some((path, db));
        Ok(Fresh {
            catalog: "main".into(),
            schema: "main".into(),
        })
    }

    fn db(&mut self) -> &mut dyn Database {
        self.open
            .as_mut()
            .expect("a fresh database first")
            .1
            .as_mut()
    }

    async fn clean(&mut self) -> Result<(), String> {
        if let Some((path, db)) = self.open.take() {
            db.close().await.map_err(|e| e.to_string())?;
            std::fs::remove_file(&path).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

#[test]
fn generated_migrations_round_trip_through_sqlite() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    check_round_trips(
        DialectKind::Sqlite,
        &rt,
        Sqlite {
            // The directory and any file left in it go when the test ends.
            dir: tempfile::tempdir().unwrap(),
            pair: 0,
            open: None,
        },
    );
}
