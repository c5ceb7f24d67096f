//! Projects and the current-project setting.

mod common;

use common::*;
use tidemark_store::{StoreError, Workspace};

#[test]
fn projects_are_created_listed_by_name_and_found() {
    let (_dir, path) = temp_workspace_path();
    let mut ws = Workspace::open(&path).unwrap();
    let zoo = ws.create_project("p_zoo", "zoo", at(5)).unwrap();
    let shop = ws.create_project("p_shop", "shop", at(6)).unwrap();
    assert_eq!(zoo.created_at, at(5));

    assert_eq!(ws.projects().unwrap(), vec![shop.clone(), zoo.clone()]);
    assert_eq!(ws.project_by_name("zoo").unwrap(), zoo);
    assert_eq!(ws.project("p_shop").unwrap(), shop);
    drop(ws);

    // Survives a reopen with full time precision.
    let ws = Workspace::open_existing(&path).unwrap();
    assert_eq!(ws.project_by_name("shop").unwrap(), shop);
}

#[test]
fn a_taken_name_is_refused_as_bad_input() {
    let (_dir, path) = temp_workspace_path();
    let (mut ws, _) = workspace_with_project(&path);
    let err = ws.create_project("p_other", "shop", at(1)).unwrap_err();
    assert!(matches!(&err, StoreError::ProjectExists(name) if name == "shop"));
    assert!(err.is_bad_input());
    assert!(err.to_string().contains("tidemark project use shop"));
    assert_eq!(ws.projects().unwrap().len(), 1);
}

#[test]
fn an_unknown_name_says_where_to_look() {
    let (_dir, path) = temp_workspace_path();
    let (mut ws, _) = workspace_with_project(&path);
    let err = ws.project_by_name("nope").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no project named nope: see `tidemark project list`"
    );
    assert!(err.is_bad_input());
    assert!(matches!(
        ws.set_current_project("nope").unwrap_err(),
        StoreError::UnknownProject(_)
    ));
    assert!(matches!(
        ws.project("p_nope").unwrap_err(),
        StoreError::UnknownProjectId(_)
    ));
}

#[test]
fn the_current_project_is_unset_until_chosen_and_then_persists() {
    let (_dir, path) = temp_workspace_path();
    let (mut ws, shop) = workspace_with_project(&path);
    let err = ws.current_project().unwrap_err();
    assert!(matches!(err, StoreError::NoCurrentProject));
    assert!(err.is_bad_input());
    assert!(err.to_string().contains("tidemark project new NAME"));

    assert_eq!(ws.set_current_project("shop").unwrap(), shop);
    let zoo = ws.create_project("p_zoo", "zoo", at(1)).unwrap();
    assert_eq!(ws.current_project().unwrap(), shop);
    ws.set_current_project("zoo").unwrap();
    drop(ws);

    assert_eq!(
        Workspace::open(&path).unwrap().current_project().unwrap(),
        zoo
    );
}

#[test]
fn connections_round_trip_without_secrets() {
    use tidemark_store::{Connection, PasswordSource, StoreError};
    let dir = tempfile::tempdir().unwrap();
    let mut ws = tidemark_store::Workspace::open(dir.path().join("c.tmdb")).unwrap();
    let now = chrono::Utc::now();
    let pg = Connection {
        name: "dev".into(),
        kind: "postgres".into(),
        url: "postgres://app@127.0.0.1:5432/app".into(),
        password: PasswordSource::Env("DEV_PASSWORD".into()),
        created_at: now,
    };
    ws.write(|tx| tx.add_connection(&pg)).unwrap();
    let dup = ws.write(|tx| tx.add_connection(&pg)).unwrap_err();
    assert!(matches!(dup, StoreError::ConnectionExists(ref n) if n == "dev"));
    assert!(dup.is_bad_input());
    let back = ws.connection("dev").unwrap();
    assert_eq!(back, pg);
    assert_eq!(ws.connections().unwrap().len(), 1);
    ws.write(|tx| tx.remove_connection("dev")).unwrap();
    let gone = ws.connection("dev").unwrap_err();
    assert!(
        gone.to_string().contains("no connection named dev"),
        "{gone}"
    );
}
