//! Properties of snapshot hashing and of the diff over generated states.

use proptest::prelude::*;
use proptest::sample::Index as Pick;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use tidemark_model::{
    canonical_json, diff, Catalog, Column, DataType, ObjectId, PrimaryKey, Schema, SnapshotHash,
    State, Table,
};

// ---------------------------------------------------------------- strategies

fn unique_names(max: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[a-z][a-z0-9]{0,5}", 1..=max).prop_map(|names| {
        let mut seen = HashSet::new();
        names
            .into_iter()
            .filter(|n| seen.insert(n.clone()))
            .collect()
    })
}

fn data_type() -> impl Strategy<Value = DataType> {
    prop_oneof![
        Just(DataType::Boolean),
        Just(DataType::Integer),
        Just(DataType::BigInt),
        Just(DataType::Text),
        Just(DataType::TimestampTz),
        (1u32..40, 0u32..6).prop_map(|(p, s)| DataType::Decimal {
            precision: Some(p),
            scale: Some(s),
        }),
        prop::option::of(1u32..300).prop_map(|length| DataType::Varchar { length }),
        "[a-z]{2,8}".prop_map(|sql| DataType::Raw { sql }),
    ]
}

/// Everything of a column but its id and name.
fn column_body() -> impl Strategy<Value = Column> {
    (
        data_type(),
        any::<bool>(),
        prop::option::of("[0-9]{1,3}|'[a-z]{0,4}'"),
        prop::option::of("[a-z ]{0,12}"),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(data_type, nullable, default, comment, identity)| Column {
            id: ObjectId::new(""),
            name: String::new(),
            data_type,
            nullable,
            default,
            comment,
            identity,
        })
}

fn table_body() -> impl Strategy<Value = Table> {
    (
        unique_names(5),
        prop::collection::vec(column_body(), 5),
        prop::option::of("[a-z ]{0,12}"),
        prop::collection::btree_map("[a-z]{1,4}", "[a-z0-9]{0,4}", 0..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(names, bodies, comment, properties, has_pk, has_index)| {
            let columns: Vec<Column> = names
                .into_iter()
                .zip(bodies)
                .map(|(name, body)| Column { name, ..body })
                .collect();
            let primary_key = has_pk.then(|| PrimaryKey {
                id: ObjectId::new(""),
                name: "pkey".into(),
                columns: vec![columns[0].name.clone()],
            });
            let indexes = if has_index {
                vec![tidemark_model::Index {
                    id: ObjectId::new(""),
                    name: "idx".into(),
                    columns: vec![columns[columns.len() - 1].name.clone()],
                    unique: false,
                }]
            } else {
                vec![]
            };
            Table {
                id: ObjectId::new(""),
                name: String::new(),
                columns,
                primary_key,
                uniques: vec![],
                indexes,
                foreign_keys: vec![],
                checks: vec![],
                comment,
                properties,
            }
        })
}

fn schema_body() -> impl Strategy<Value = Schema> {
    (
        prop::option::of(unique_names(3)),
        prop::collection::vec(table_body(), 3),
        prop::option::of("[a-z ]{0,8}"),
    )
        .prop_map(|(names, bodies, comment)| Schema {
            id: ObjectId::new(""),
            name: String::new(),
            comment,
            tables: names
                .unwrap_or_default()
                .into_iter()
                .zip(bodies)
                .map(|(name, body)| Table { name, ..body })
                .collect(),
        })
}

fn state() -> impl Strategy<Value = State> {
    let catalog = (
        unique_names(2),
        prop::collection::vec(schema_body(), 2),
        prop::option::of("[a-z]{0,6}"),
    )
        .prop_map(|(names, bodies, comment)| Catalog {
            id: ObjectId::new(""),
            name: String::new(),
            comment,
            schemas: names
                .into_iter()
                .zip(bodies)
                .map(|(name, body)| Schema { name, ..body })
                .collect(),
        });
    (unique_names(2), prop::collection::vec(catalog, 2)).prop_map(|(names, bodies)| {
        let mut state = State {
            catalogs: names
                .into_iter()
                .zip(bodies)
                .map(|(name, body)| Catalog { name, ..body })
                .collect(),
        };
        assign_ids(&mut state, "id");
        state
    })
}

// ------------------------------------------------------------------ helpers

/// Gives every object a unique id with the given prefix, as a project (or a
/// live read, with another prefix) would.
fn assign_ids(state: &mut State, prefix: &str) {
    let mut n = 0;
    let mut next = |id: &mut ObjectId| {
        n += 1;
        *id = ObjectId::new(format!("{prefix}_{n}"));
    };
    for c in &mut state.catalogs {
        next(&mut c.id);
        for s in &mut c.schemas {
            next(&mut s.id);
            for t in &mut s.tables {
                next(&mut t.id);
                t.columns.iter_mut().for_each(|c| next(&mut c.id));
                if let Some(pk) = &mut t.primary_key {
                    next(&mut pk.id);
                }
                t.indexes.iter_mut().for_each(|x| next(&mut x.id));
            }
        }
    }
}

/// Every name in the state that the hash must depend on.
fn names_mut(state: &mut State) -> Vec<&mut String> {
    let mut names = Vec::new();
    for c in &mut state.catalogs {
        names.push(&mut c.name);
        for s in &mut c.schemas {
            names.push(&mut s.name);
            for t in &mut s.tables {
                names.push(&mut t.name);
                for col in &mut t.columns {
                    names.push(&mut col.name);
                }
                if let Some(pk) = &mut t.primary_key {
                    names.push(&mut pk.name);
                }
                for x in &mut t.indexes {
                    names.push(&mut x.name);
                }
            }
        }
    }
    names
}

/// A tiny deterministic generator, so a failing case reproduces from its seed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// Rebuilds every JSON object with its keys in a shuffled order (serde_json
/// keeps insertion order here, so the text really changes).
fn shuffle_keys(value: &Value, rng: &mut Lcg) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            for i in (1..entries.len()).rev() {
                entries.swap(i, rng.below(i + 1));
            }
            let mut out = Map::new();
            for (k, v) in entries {
                out.insert(k.clone(), shuffle_keys(v, rng));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| shuffle_keys(v, rng)).collect()),
        other => other.clone(),
    }
}

/// Reverses every object's keys: guaranteed to reorder any object with two
/// or more keys, which a random shuffle is not.
fn reverse_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map.iter().rev() {
                out.insert(k.clone(), reverse_keys(v));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(reverse_keys).collect()),
        other => other.clone(),
    }
}

fn sealed_value(state: &State, ops: &[String]) -> Value {
    serde_json::json!({ "state": state, "ops_included": ops })
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// What the diff is blind to: ids (objects are matched by name as well),
/// sibling order of catalogs, schemas, tables and indexes, primary key names
/// and catalog comments (no change kind carries them).
fn normalized(state: &State) -> State {
    let mut s = state.clone();
    s.catalogs.sort_by(|a, b| a.name.cmp(&b.name));
    for c in &mut s.catalogs {
        c.comment = None;
        c.schemas.sort_by(|a, b| a.name.cmp(&b.name));
        for sc in &mut c.schemas {
            sc.tables.sort_by(|a, b| a.name.cmp(&b.name));
            for t in &mut sc.tables {
                if let Some(pk) = &mut t.primary_key {
                    pk.name.clear();
                }
                t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
            }
        }
    }
    // Numbered after sorting, so equal shapes get equal ids.
    assign_ids(&mut s, "");
    s
}

fn tables_mut(state: &mut State) -> Vec<&mut Table> {
    state
        .catalogs
        .iter_mut()
        .flat_map(|c| c.schemas.iter_mut())
        .flat_map(|s| s.tables.iter_mut())
        .collect()
}

/// Applies one of several edits (some visible to the diff, some not).
fn mutate(state: &mut State, kind: usize, pick: &Pick) {
    match kind {
        0 => {}
        1 => {
            let mut names = names_mut(state);
            let i = pick.index(names.len());
            names[i].push_str("_r");
        }
        2..=5 => {
            let mut tables = tables_mut(state);
            if tables.is_empty() {
                return;
            }
            let i = pick.index(tables.len());
            let t = &mut tables[i];
            let j = pick.index(t.columns.len());
            let c = &mut t.columns[j];
            match kind {
                2 => {
                    c.data_type = if c.data_type == DataType::Json {
                        DataType::Uuid
                    } else {
                        DataType::Json
                    }
                }
                3 => c.nullable = !c.nullable,
                4 => c.default = Some(format!("{}+1", c.default.as_deref().unwrap_or("0"))),
                _ => c.comment = Some(format!("{} changed", c.comment.as_deref().unwrap_or(""))),
            }
        }
        6 => {
            let mut tables = tables_mut(state);
            if !tables.is_empty() {
                let i = pick.index(tables.len());
                let t = &mut tables[i];
                t.columns.push(Column {
                    id: ObjectId::new("new_col"),
                    name: "added_col".into(),
                    data_type: DataType::Text,
                    nullable: true,
                    default: None,
                    comment: None,
                    identity: false,
                });
            }
        }
        7 => {
            if let Some(s) = state
                .catalogs
                .iter_mut()
                .flat_map(|c| c.schemas.iter_mut())
                .find(|s| !s.tables.is_empty())
            {
                let i = pick.index(s.tables.len());
                s.tables.remove(i);
            }
        }
        8 => {
            let mut tables = tables_mut(state);
            if let Some(t) = tables.iter_mut().find(|t| t.columns.len() >= 2) {
                t.columns.swap(0, 1);
            }
        }
        9 => {
            let mut tables = tables_mut(state);
            if !tables.is_empty() {
                let i = pick.index(tables.len());
                tables[i].properties.insert("zz".into(), "on".into());
            }
        }
        10 => {
            if let Some(s) = state
                .catalogs
                .iter_mut()
                .flat_map(|c| c.schemas.iter_mut())
                .find(|s| s.tables.len() >= 2)
            {
                s.tables.swap(0, 1);
            }
        }
        _ => {
            let c = &mut state.catalogs[0];
            c.comment = Some(format!("{} changed", c.comment.as_deref().unwrap_or("")));
        }
    }
}

// --------------------------------------------------------------- properties

proptest! {
    #[test]
    fn hash_ignores_json_key_order(state in state(), seed in any::<u64>()) {
        let ops = vec!["op_1".to_string(), "op_2".to_string()];
        let value = sealed_value(&state, &ops);
        let expected = SnapshotHash::compute(&state, &ops);
        prop_assert_eq!(&sha256_hex(&canonical_json(&value)), &expected.0);

        for reordered in [reverse_keys(&value), shuffle_keys(&value, &mut Lcg(seed))] {
            prop_assert_eq!(&sha256_hex(&canonical_json(&reordered)), &expected.0);
            // Reading the reordered document back gives the same state and hash.
            let back: State = serde_json::from_value(reordered["state"].clone()).unwrap();
            prop_assert_eq!(&back, &state);
            prop_assert_eq!(SnapshotHash::compute(&back, &ops), expected.clone());
        }
        // The reversed text differs, so the check above is not vacuous.
        prop_assert_ne!(reverse_keys(&value).to_string(), value.to_string());
    }

    #[test]
    fn json_round_trip_keeps_the_hash(state in state()) {
        let ops = vec!["op_a".to_string()];
        let text = serde_json::to_string_pretty(&state).unwrap();
        let back: State = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &state);
        prop_assert_eq!(SnapshotHash::compute(&back, &ops), SnapshotHash::compute(&state, &ops));
    }

    #[test]
    fn changing_any_name_changes_the_hash(state in state(), pick in any::<Pick>()) {
        let ops: Vec<String> = vec![];
        let before = SnapshotHash::compute(&state, &ops);
        let mut changed = state.clone();
        let mut names = names_mut(&mut changed);
        let i = pick.index(names.len());
        names[i].push('x');
        prop_assert_ne!(SnapshotHash::compute(&changed, &ops), before);
    }

    #[test]
    fn ops_included_are_part_of_the_hash(state in state()) {
        prop_assert_ne!(
            SnapshotHash::compute(&state, &["op_1".to_string()]),
            SnapshotHash::compute(&state, &["op_2".to_string()])
        );
    }

    #[test]
    fn diff_of_a_state_with_itself_or_a_fresh_id_copy_is_empty(state in state()) {
        prop_assert!(diff(&state, &state).is_empty());
        let mut live = state.clone();
        assign_ids(&mut live, "live");
        prop_assert!(diff(&state, &live).is_empty());
        prop_assert!(diff(&live, &state).is_empty());
    }

    #[test]
    fn diff_is_empty_exactly_when_states_match_up_to_what_it_ignores(
        a in state(),
        kind in 0usize..12,
        pick in any::<Pick>(),
        fresh_ids in any::<bool>(),
    ) {
        let mut b = a.clone();
        mutate(&mut b, kind, &pick);
        if fresh_ids {
            assign_ids(&mut b, "live");
        }
        let changes = diff(&a, &b);
        prop_assert_eq!(
            changes.is_empty(),
            normalized(&a) == normalized(&b),
            "mutation {} gave {:?}",
            kind,
            changes
        );
        prop_assert_eq!(diff(&a, &b), changes);
    }
}

#[test]
fn the_state_strategy_produces_varied_states() {
    // Guards the properties above against a strategy that degenerates to
    // empty states, where every property would hold trivially.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut columns = 0;
    let mut tables = 0;
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..50 {
        let s = state().new_tree(&mut runner).unwrap().current();
        for c in &s.catalogs {
            for sc in &c.schemas {
                for t in &sc.tables {
                    tables += 1;
                    for col in &t.columns {
                        columns += 1;
                        let kind = serde_json::to_value(&col.data_type).unwrap()["kind"]
                            .as_str()
                            .unwrap()
                            .to_string();
                        *kinds.entry(kind).or_default() += 1;
                    }
                }
            }
        }
    }
    assert!(tables > 50, "{tables} tables");
    assert!(columns > 150, "{columns} columns");
    assert!(kinds.len() >= 6, "{kinds:?}");
}
