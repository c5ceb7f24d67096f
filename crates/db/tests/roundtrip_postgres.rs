//! Generated pairs of states round-trip through PostgreSQL: each plan,
//! applied to the server and read back, gives exactly the state it was
//! planned for (and its down plan gives back the first, when it loses
//! nothing). One database for the test, one fresh schema per pair.

mod common;
mod roundtrip;

use async_trait::async_trait;
use common::PgDb;
use roundtrip::{check_round_trips, DropGuard, Fresh, Sandbox};
use tidemark_db::{Database, DialectKind};

struct Postgres {
    pg: PgDb,
    db: Box<dyn Database>,
    pair: usize,
    schema: Option<(String, DropGuard)>,
}

#[async_trait(?Send)]
impl Sandbox for Postgres {
    async fn fresh(&mut self) -> Result<Fresh, String> {
        self.pair += 1;
        let schema = format!("pair_{}", self.pair);
        // The guard drops the schema if the pair panics before `clean`.
        let url = format!("postgres://postgres@127.0.0.1:5432/{}", self.pg.name);
        let guard = DropGuard::new(&url, format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
        self.schema = Some((schema.clone(), guard));
        self.db
            .execute(&[format!("CREATE SCHEMA \"{schema}\"")], false)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Fresh {
            catalog: self.pg.name.clone(),
            schema,
        })
    }

    fn db(&mut self) -> &mut dyn Database {
        self.db.as_mut()
    }

    async fn clean(&mut self) -> Result<(), String> {
        if let Some((schema, mut guard)) = self.schema.take() {
            self.db
                .execute(&[format!("DROP SCHEMA \"{schema}\" CASCADE")], false)
                .await
                .map_err(|e| e.to_string())?;
            guard.disarm();
        }
        Ok(())
    }
}

#[test]
fn generated_migrations_round_trip_through_postgres() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pg = rt.block_on(PgDb::create());
    let db = rt.block_on(pg.connect());
    check_round_trips(
        DialectKind::Postgres,
        &rt,
        Postgres {
            pg,
            db,
            pair: 0,
            schema: None,
        },
    );
}
