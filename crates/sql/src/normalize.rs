//! The canonical form of a state for one dialect.
//!
//! Two states that the database would store identically must normalize to
//! equal values, so that an unchanged database never shows a difference:
//! types go through the dialect's round trip, defaults and checks through a
//! canonical spelling, names are folded where the database ignores case,
//! objects the database creates by itself (indexes behind keys) or cannot
//! store (comments on SQLite, properties outside Databricks) are dropped, and
//! constraint lists are sorted by name. Normalizing twice changes nothing.

use crate::dialect::{Dialect, DialectKind};
use crate::expr::{canonical, canonical_tokens, join, Tok};
use tidemark_model::{
    Catalog, Column, DataType, FkAction, Index, Schema, State, Table, UniqueConstraint,
};

/// What one database does with names and objects.
struct Rules {
    /// Column, index and constraint names match without regard to case.
    fold_names: bool,
    /// Schema and table names too.
    fold_tables: bool,
    /// Primary key names are not stored or not reported: every key gets this one.
    pk_name: Option<&'static str>,
    /// `RESTRICT` behaves as `NO ACTION`.
    restrict_is_no_action: bool,
    /// Every foreign key gets an index of its own name if none serves it.
    fk_indexes: bool,
    /// A unique index over plain columns is the same object as a unique constraint.
    unique_index_is_constraint: bool,
    /// One index per distinct column list: a unique constraint that repeats
    /// an earlier one's columns, or the primary key's, is not stored.
    one_index_per_columns: bool,
    schema_comments: bool,
    comments: bool,
    properties: bool,
    indexes: bool,
    /// Primary key columns are NOT NULL whatever the definition says.
    pk_not_null: bool,
    /// How boolean defaults are spelled.
    booleans: (&'static str, &'static str),
}

fn rules(kind: DialectKind) -> Rules {
    let base = Rules {
        fold_names: true,
        fold_tables: true,
        pk_name: None,
        restrict_is_no_action: false,
        fk_indexes: false,
        unique_index_is_constraint: false,
        one_index_per_columns: false,
        schema_comments: true,
        comments: true,
        properties: false,
        indexes: true,
        pk_not_null: true,
        booleans: ("1", "0"),
    };
    match kind {
        DialectKind::Postgres => Rules {
            fold_names: false,
            fold_tables: false,
            booleans: ("true", "false"),
            ..base
        },
        DialectKind::Mysql => Rules {
            // Table and database names follow the file system (case
            // sensitive on Linux by default); columns and keys never do.
            fold_tables: false,
            pk_name: Some("PRIMARY"),
            restrict_is_no_action: true,
            fk_indexes: true,
            unique_index_is_constraint: true,
            schema_comments: false,
            ..base
        },
        DialectKind::Sqlite => Rules {
            pk_name: Some(""),
            one_index_per_columns: true,
            schema_comments: false,
            comments: false,
            // SQLite lets NULL into a non-integer primary key.
            pk_not_null: false,
            ..base
        },
        DialectKind::SqlServer => Rules {
            restrict_is_no_action: true,
            ..base
        },
        DialectKind::Databricks => Rules {
            properties: true,
            indexes: false,
            booleans: ("true", "false"),
            ..base
        },
    }
}

/// Table properties Delta manages itself, or that a plan sets when a change
/// needs them; they are not part of a table's design.
fn managed_property(key: &str) -> bool {
    key.starts_with("delta.feature.")
        || matches!(
            key,
            "delta.minReaderVersion"
                | "delta.minWriterVersion"
                | "delta.columnMapping.mode"
                | "delta.columnMapping.maxColumnId"
        )
}

/// The normalized form of a state for a dialect (see the module docs).
pub(crate) fn normalize<D: Dialect + ?Sized>(d: &D, state: &State) -> State {
    let r = rules(d.kind());
    let mut catalogs: Vec<Catalog> = state
        .catalogs
        .iter()
        .map(|c| Catalog {
            name: fold(r.fold_tables, &c.name),
            comment: comment(r.schema_comments, &c.comment),
            schemas: sorted(c.schemas.iter().map(|s| schema(d, &r, s)).collect(), |s| {
                s.name.clone()
            }),
            ..c.clone()
        })
        .collect();
    catalogs.sort_by(|a, b| a.name.cmp(&b.name));
    State { catalogs }
}

fn sorted<T>(mut items: Vec<T>, key: impl Fn(&T) -> String) -> Vec<T> {
    items.sort_by_key(|t| key(t));
    items
}

fn fold(on: bool, name: &str) -> String {
    if on {
        name.to_lowercase()
    } else {
        name.to_string()
    }
}

fn comment(stored: bool, c: &Option<String>) -> Option<String> {
    // Several databases report a missing comment as an empty one.
    c.as_ref().filter(|c| stored && !c.is_empty()).cloned()
}

fn schema<D: Dialect + ?Sized>(d: &D, r: &Rules, s: &Schema) -> Schema {
    Schema {
        name: fold(r.fold_tables, &s.name),
        comment: comment(r.schema_comments, &s.comment),
        tables: sorted(s.tables.iter().map(|t| table(d, r, t)).collect(), |t| {
            t.name.clone()
        }),
        ..s.clone()
    }
}

fn table<D: Dialect + ?Sized>(d: &D, r: &Rules, t: &Table) -> Table {
    let kind = d.kind();
    let names = |cols: &[String]| {
        cols.iter()
            .map(|c| fold(r.fold_names, c))
            .collect::<Vec<_>>()
    };
    let mut primary_key = t.primary_key.clone().map(|mut pk| {
        pk.name = match r.pk_name {
            Some(name) => name.to_string(),
            None => fold(r.fold_names, &pk.name),
        };
        pk.columns = names(&pk.columns);
        pk
    });
    let mut columns: Vec<Column> = t.columns.iter().map(|c| column(d, r, c)).collect();
    if let Some(pk) = &mut primary_key {
        if r.pk_not_null {
            for c in columns.iter_mut().filter(|c| pk.columns.contains(&c.name)) {
                c.nullable = false;
            }
        }
        if pk.columns.is_empty() {
            primary_key = None;
        }
    }
    let column_names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let entry = |e: &String| {
        let folded = fold(r.fold_names, e);
        if column_names.contains(&folded.as_str()) {
            folded
        } else {
            canonical(kind, e)
        }
    };
    let mut uniques: Vec<UniqueConstraint> = t
        .uniques
        .iter()
        .map(|u| UniqueConstraint {
            name: fold(r.fold_names, &u.name),
            columns: names(&u.columns),
            ..u.clone()
        })
        .collect();
    let mut indexes: Vec<Index> = if r.indexes {
        t.indexes
            .iter()
            .map(|i| Index {
                name: fold(r.fold_names, &i.name),
                columns: i.columns.iter().map(entry).collect(),
                ..i.clone()
            })
            .collect()
    } else {
        Vec::new()
    };
    if r.one_index_per_columns {
        // SQLite keeps the first of several UNIQUE constraints over the same
        // column list, and none over the primary key's columns unless that
        // key is the rowid itself (a lone INTEGER column, which has no index).
        let rowid_key = primary_key
            .as_ref()
            .is_some_and(|pk| match pk.columns.as_slice() {
                [only] => columns
                    .iter()
                    .any(|c| &c.name == only && c.data_type == DataType::Integer),
                _ => false,
            });
        let mut stored: Vec<Vec<String>> = primary_key
            .iter()
            .filter(|_| !rowid_key)
            .map(|pk| pk.columns.clone())
            .collect();
        uniques.retain(|u| {
            let first = !stored.contains(&u.columns);
            stored.push(u.columns.clone());
            first
        });
    }
    // The unique index a database builds behind a key is the key itself.
    indexes.retain(|i| {
        let backs = |name: &str, cols: &[String]| {
            i.unique
                && i.columns == cols
                && (i.name.eq_ignore_ascii_case(name)
                    || i.name.starts_with("sqlite_autoindex_")
                    || i.name == "PRIMARY")
        };
        let by_pk = primary_key
            .as_ref()
            .is_some_and(|pk| backs(&pk.name, &pk.columns));
        !by_pk && !uniques.iter().any(|u| backs(&u.name, &u.columns))
    });
    if r.unique_index_is_constraint {
        indexes.retain(|i| {
            let plain = i.columns.iter().all(|c| column_names.contains(&c.as_str()));
            if !(i.unique && plain) {
                return true;
            }
            if !uniques.iter().any(|u| u.name == i.name) {
                uniques.push(UniqueConstraint {
                    id: i.id.clone(),
                    name: i.name.clone(),
                    columns: i.columns.clone(),
                });
            }
            false
        });
    }
    let mut foreign_keys: Vec<_> = t
        .foreign_keys
        .iter()
        .map(|fk| {
            let action = |a: FkAction| {
                if r.restrict_is_no_action && a == FkAction::Restrict {
                    FkAction::NoAction
                } else {
                    a
                }
            };
            let mut fk = fk.clone();
            fk.name = fold(r.fold_names, &fk.name);
            fk.columns = names(&fk.columns);
            fk.ref_columns = names(&fk.ref_columns);
            fk.references.schema = fold(r.fold_tables, &fk.references.schema);
            fk.references.table = fold(r.fold_tables, &fk.references.table);
            fk.on_delete = action(fk.on_delete);
            fk.on_update = action(fk.on_update);
            fk
        })
        .collect();
    if r.fk_indexes {
        // MySQL keeps an index over a foreign key's columns for as long as
        // the key exists: its own, named after the key (or the key's first
        // column), or one it took over. MariaDB renames its own index after
        // the newest key over the same columns, and neither server lets the
        // index go while a key needs it, so such an index is implied by the
        // key whatever its name.
        indexes.retain(|i| {
            !foreign_keys
                .iter()
                .any(|fk| !i.unique && i.columns == fk.columns)
        });
    }
    uniques.sort_by(|a, b| a.name.cmp(&b.name));
    indexes.sort_by(|a, b| a.name.cmp(&b.name));
    foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
    let checks = sorted(
        t.checks
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.name = fold(r.fold_names, &c.name);
                c.expression = canonical(kind, &c.expression);
                c
            })
            .collect(),
        |c| c.name.clone(),
    );
    let properties = if r.properties {
        t.properties
            .iter()
            .filter(|(k, _)| !managed_property(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    } else {
        Default::default()
    };
    Table {
        name: fold(r.fold_tables, &t.name),
        columns,
        primary_key,
        uniques,
        indexes,
        foreign_keys,
        checks,
        comment: comment(r.comments, &t.comment),
        properties,
        ..t.clone()
    }
}

fn column<D: Dialect + ?Sized>(d: &D, r: &Rules, c: &Column) -> Column {
    let kind = d.kind();
    let mut c = c.clone();
    c.name = fold(r.fold_names, &c.name);
    c.data_type = d.parse_native_type(&d.native_type(&c.data_type));
    if kind == DialectKind::Postgres
        && c.default
            .as_deref()
            .is_some_and(|x| x.trim_start().to_ascii_lowercase().starts_with("nextval("))
    {
        // serial: a sequence default is PostgreSQL's older identity.
        c.identity = true;
    }
    if c.identity {
        c.default = None;
        c.nullable = false;
        if kind == DialectKind::Sqlite {
            // Only INTEGER PRIMARY KEY generates values in SQLite.
            c.data_type = DataType::Integer;
        }
    }
    c.default = c
        .default
        .as_deref()
        .and_then(|x| default_value(kind, r, x, &c.data_type));
    c.comment = comment(r.comments, &c.comment);
    c
}

/// The canonical spelling of a default, `None` for a NULL default.
fn default_value(kind: DialectKind, r: &Rules, expr: &str, ty: &DataType) -> Option<String> {
    let Some(toks) = canonical_tokens(kind, expr) else {
        return Some(expr.split_whitespace().collect::<Vec<_>>().join(" "));
    };
    let word = |w: &str| Tok::Word(w.to_string());
    let call = |w: &str| vec![word(w), Tok::LParen, Tok::RParen];
    let current = |w: &str| toks == [word(w)] || toks == call(w);
    if toks.is_empty() || toks == [word("null")] {
        return None;
    }
    if current("current_timestamp") || toks == call("now") || toks == call("getdate") {
        return Some("CURRENT_TIMESTAMP".into());
    }
    if current("current_date") || toks == call("curdate") {
        return Some("CURRENT_DATE".into());
    }
    let unquoted = match toks.as_slice() {
        [Tok::Str(s)] if s.starts_with('\'') => Some(s[1..s.len() - 1].replace("''", "'")),
        [Tok::Str(s)] if s.starts_with("b'") => Some(s[2..s.len() - 1].to_string()),
        _ => None,
    };
    let number =
        |s: &str| !s.is_empty() && s.parse::<f64>().is_ok() && !s.contains(char::is_whitespace);
    match ty {
        DataType::Boolean => {
            let value = match toks.as_slice() {
                [Tok::Word(w)] => Some(w.as_str()),
                [Tok::Num(n)] => Some(n.as_str()),
                _ => unquoted.as_deref(),
            }
            .map(str::to_ascii_lowercase);
            match value.as_deref() {
                Some("true" | "1" | "t" | "y" | "yes" | "on") => Some(r.booleans.0.into()),
                Some("false" | "0" | "f" | "n" | "no" | "off") => Some(r.booleans.1.into()),
                _ => Some(join(kind, &toks)),
            }
        }
        DataType::SmallInt
        | DataType::Integer
        | DataType::BigInt
        | DataType::Decimal { .. }
        | DataType::Real
        | DataType::Double => match (unquoted, toks.as_slice()) {
            // '0' and 0 are the same default for a number column.
            (Some(n), _) if number(&n) && !toks_is_bits(&toks) => Some(plain_number(&n)),
            (None, [Tok::Num(n)]) => Some(plain_number(n)),
            _ => Some(join(kind, &toks)),
        },
        _ => Some(join(kind, &toks)),
    }
}

/// A decimal number without trailing zeros after the point: MariaDB reports
/// the default `0` of a `decimal(10,2)` column as `0.00`.
fn plain_number(n: &str) -> String {
    match n.split_once('.') {
        Some((whole, fraction)) if fraction.bytes().all(|b| b.is_ascii_digit()) => {
            let fraction = fraction.trim_end_matches('0');
            if fraction.is_empty() {
                whole.to_string()
            } else {
                format!("{whole}.{fraction}")
            }
        }
        _ => n.to_string(),
    }
}

fn toks_is_bits(toks: &[Tok]) -> bool {
    matches!(toks, [Tok::Str(s)] if s.starts_with("b'"))
}
