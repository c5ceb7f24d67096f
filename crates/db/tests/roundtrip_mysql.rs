//! Generated pairs of states round-trip through MariaDB/MySQL: each plan,
//! applied to the server and read back, gives exactly the state it was
//! planned for (and its down plan gives back the first, when it loses
//! nothing). A fresh database (a MySQL schema) per pair.

mod common;
mod roundtrip;

use async_trait::async_trait;
use common::{MyDb, MYSQL_ADMIN};
use roundtrip::{check_round_trips, DropGuard, Fresh, Sandbox};
use tidemark_db::{Database, DialectKind};

struct Mysql {
    home: MyDb,
    db: Box<dyn Database>,
    pair: usize,
    schema: Option<(String, DropGuard)>,
}

#[async_trait(?Send)]
impl Sandbox for Mysql {
    async fn fresh(&mut self) -> Result<Fresh, String> {
        self.pair += 1;
        let schema = format!("{}_p{}", self.home.name, self.pair);
        // The guard drops the database if the pair panics before `clean`.
        let guard = DropGuard::new(MYSQL_ADMIN, format!("DROP DATABASE IF EXISTS `{schema}`"));
        self.schema = Some((schema.clone(), guard));
        self.db
            .execute(
                &[format!(
                    "CREATE DATABASE `{schema}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )],
                false,
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(Fresh {
            // The catalog is named after the connection's database.
            catalog: self.home.name.clone(),
            schema,
        })
    }

    fn db(&mut self) -> &mut dyn Database {
        self.db.as_mut()
    }

    async fn clean(&mut self) -> Result<(), String> {
        if let Some((schema, mut guard)) = self.schema.take() {
            self.db
                .execute(&[format!("DROP DATABASE `{schema}`")], false)
                .await
                .map_err(|e| e.to_string())?;
            guard.disarm();
        }
        Ok(())
    }
}

#[test]
fn generated_migrations_round_trip_through_mariadb() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let home = rt.block_on(MyDb::create());
    let db = rt.block_on(home.connect());
    check_round_trips(
        DialectKind::Mysql,
        &rt,
        Mysql {
            home,
            db,
            pair: 0,
            schema: None,
        },
    );
}
