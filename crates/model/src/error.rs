//! The model crate's one error type.
//!
//! Every message is a single line that starts with the op's name and names
//! the object involved (`schema.table.column`), so a user reading it in a CLI
//! or the UI can find the offending op and object without more context.

use crate::ids::ObjectId;
use std::fmt;

/// The kind of object an [`ObjectId`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A catalog.
    Catalog,
    /// A schema.
    Schema,
    /// A table.
    Table,
    /// A column.
    Column,
    /// A primary key.
    PrimaryKey,
    /// A unique constraint.
    Unique,
    /// A secondary index.
    Index,
    /// A foreign key.
    ForeignKey,
    /// A check constraint.
    Check,
}

impl ObjectKind {
    /// The kind in words, as used in messages (`"unique constraint"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Catalog => "catalog",
            ObjectKind::Schema => "schema",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::PrimaryKey => "primary key",
            ObjectKind::Unique => "unique constraint",
            ObjectKind::Index => "index",
            ObjectKind::ForeignKey => "foreign key",
            ObjectKind::Check => "check constraint",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the model refused something, almost always an op the reducer rejected.
///
/// `op` fields hold the op's snake_case name (see [`crate::Action::name`]).
/// Object descriptions such as `table main.orders` or
/// `foreign key orders_customer_id_fkey on main.orders` are display text, not
/// keys: match on the variant (or [`ModelError::kind`]) in code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The op's target id names nothing in the state.
    #[error("{op}: no {expected} with id {id}")]
    UnknownTarget {
        /// The op's name.
        op: &'static str,
        /// What the op needs its target to be, e.g. `table`.
        expected: &'static str,
        /// The target id.
        id: ObjectId,
    },
    /// The op's target exists but is the wrong kind of object.
    #[error("{op}: {id} is {found}, not {}", with_article(.expected))]
    WrongTargetKind {
        /// The op's name.
        op: &'static str,
        /// What the op needs its target to be, e.g. `table`.
        expected: &'static str,
        /// The target id.
        id: ObjectId,
        /// The object the id names, e.g. `schema main`.
        found: String,
    },
    /// An `add_catalog` op whose target is not the root id.
    #[error("{op}: the target must be the root id \"root\", not {id}")]
    TargetNotRoot {
        /// The op's name.
        op: &'static str,
        /// The target id given.
        id: ObjectId,
    },
    /// A new object's id is already taken (ids are unique across the state).
    #[error("{op}: id {id} is already used by {existing}; give the new object a fresh id")]
    DuplicateId {
        /// The op's name.
        op: &'static str,
        /// The id the op wanted to use.
        id: ObjectId,
        /// The object that holds it, e.g. `column main.customers.email`.
        existing: String,
    },
    /// A name, id, key or expression that must not be blank is.
    #[error("{op}: the {what} is empty")]
    Empty {
        /// The op's name.
        op: &'static str,
        /// What is empty, e.g. `table name`, `column id`, `property key`.
        what: String,
    },
    /// A sibling of the same kind (or, for constraints, in the same
    /// namespace) already has the name.
    #[error("{op}: {parent} already has {} named {name}", with_article(.existing.as_str()))]
    NameCollision {
        /// The op's name.
        op: &'static str,
        /// The container, e.g. `table main.customers`.
        parent: String,
        /// The kind of the object that holds the name.
        existing: ObjectKind,
        /// The name.
        name: String,
    },
    /// A constraint or index names a column its table does not have.
    #[error("{op}: table {table} has no column named {column}")]
    UnknownColumn {
        /// The op's name.
        op: &'static str,
        /// The table, e.g. `main.orders`.
        table: String,
        /// The missing column.
        column: String,
    },
    /// A foreign key references a table that does not exist in its catalog.
    #[error("{op}: foreign key {name} references {schema}.{table}, which does not exist in catalog {catalog}")]
    UnknownTable {
        /// The op's name.
        op: &'static str,
        /// The foreign key's name.
        name: String,
        /// The catalog searched (a foreign key stays within its catalog).
        catalog: String,
        /// The referenced schema name.
        schema: String,
        /// The referenced table name.
        table: String,
    },
    /// A foreign key's column lists differ in length.
    #[error("{op}: foreign key {name} has {columns} column(s) but references {ref_columns}; list one referenced column per column")]
    ColumnCountMismatch {
        /// The op's name.
        op: &'static str,
        /// The foreign key's name.
        name: String,
        /// How many referencing columns it lists.
        columns: usize,
        /// How many referenced columns it lists.
        ref_columns: usize,
    },
    /// A key, constraint or index lists no columns.
    #[error("{op}: {object} lists no columns")]
    NoColumns {
        /// The op's name.
        op: &'static str,
        /// The constraint, e.g. `unique constraint customers_email_key on main.customers`.
        object: String,
    },
    /// A key or constraint lists the same column twice.
    #[error("{op}: {object} lists column {column} twice")]
    RepeatedColumn {
        /// The op's name.
        op: &'static str,
        /// The constraint.
        object: String,
        /// The repeated column.
        column: String,
    },
    /// The object is still used by a constraint, index or foreign key.
    #[error("{op}: cannot drop {object}: used by {used_by}; drop that first")]
    InUse {
        /// The op's name.
        op: &'static str,
        /// The object the op wanted to drop.
        object: String,
        /// The first dependent found.
        used_by: String,
    },
    /// A `reorder_columns` list is not a permutation of the table's columns.
    #[error("{op}: the order for table {table} is not a permutation of its columns: {problem}")]
    NotAPermutation {
        /// The op's name.
        op: &'static str,
        /// The table.
        table: String,
        /// What is wrong, e.g. `col_3 is missing`.
        problem: String,
    },
    /// The table already has a primary key.
    #[error("{op}: table {table} already has primary key {name}; drop it first")]
    PrimaryKeyExists {
        /// The op's name.
        op: &'static str,
        /// The table.
        table: String,
        /// The existing key's name.
        name: String,
    },
    /// The table has no primary key to drop.
    #[error("{op}: table {table} has no primary key")]
    NoPrimaryKey {
        /// The op's name.
        op: &'static str,
        /// The table.
        table: String,
    },
    /// The table has no property with the key.
    #[error("{op}: table {table} has no property {key}")]
    PropertyMissing {
        /// The op's name.
        op: &'static str,
        /// The table.
        table: String,
        /// The missing key.
        key: String,
    },
    /// A new column's position lies past the end of the table.
    #[error("{op}: position {position} is beyond the end of table {table}, which has {len} column(s); use at most {len}")]
    PositionOutOfRange {
        /// The op's name.
        op: &'static str,
        /// The table.
        table: String,
        /// The position asked for.
        position: usize,
        /// How many columns the table has.
        len: usize,
    },
}

impl ModelError {
    /// A stable snake_case code for the error's variant (`"unknown_target"`),
    /// for front ends that pass errors on as `{kind, message}`.
    pub fn kind(&self) -> &'static str {
        match self {
            ModelError::UnknownTarget { .. } => "unknown_target",
            ModelError::WrongTargetKind { .. } => "wrong_target_kind",
            ModelError::TargetNotRoot { .. } => "target_not_root",
            ModelError::DuplicateId { .. } => "duplicate_id",
            ModelError::Empty { .. } => "empty",
            ModelError::NameCollision { .. } => "name_collision",
            ModelError::UnknownColumn { .. } => "unknown_column",
            ModelError::UnknownTable { .. } => "unknown_table",
            ModelError::ColumnCountMismatch { .. } => "column_count_mismatch",
            ModelError::NoColumns { .. } => "no_columns",
            ModelError::RepeatedColumn { .. } => "repeated_column",
            ModelError::InUse { .. } => "in_use",
            ModelError::NotAPermutation { .. } => "not_a_permutation",
            ModelError::PrimaryKeyExists { .. } => "primary_key_exists",
            ModelError::NoPrimaryKey { .. } => "no_primary_key",
            ModelError::PropertyMissing { .. } => "property_missing",
            ModelError::PositionOutOfRange { .. } => "position_out_of_range",
        }
    }

    /// The name of the op the error is about.
    pub fn op(&self) -> &'static str {
        match self {
            ModelError::UnknownTarget { op, .. }
            | ModelError::WrongTargetKind { op, .. }
            | ModelError::TargetNotRoot { op, .. }
            | ModelError::DuplicateId { op, .. }
            | ModelError::Empty { op, .. }
            | ModelError::NameCollision { op, .. }
            | ModelError::UnknownColumn { op, .. }
            | ModelError::UnknownTable { op, .. }
            | ModelError::ColumnCountMismatch { op, .. }
            | ModelError::NoColumns { op, .. }
            | ModelError::RepeatedColumn { op, .. }
            | ModelError::InUse { op, .. }
            | ModelError::NotAPermutation { op, .. }
            | ModelError::PrimaryKeyExists { op, .. }
            | ModelError::NoPrimaryKey { op, .. }
            | ModelError::PropertyMissing { op, .. }
            | ModelError::PositionOutOfRange { op, .. } => op,
        }
    }
}

/// `"an index"`, `"a table"`: only `index` among our kinds takes `an`
/// (`unique` is said with a consonant sound).
fn with_article(noun: &str) -> String {
    if noun.starts_with("index") {
        format!("an {noun}")
    } else {
        format!("a {noun}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_one_line_with_the_right_article() {
        let e = ModelError::NameCollision {
            op: "add_index",
            parent: "schema main".into(),
            existing: ObjectKind::Index,
            name: "idx".into(),
        };
        assert_eq!(
            e.to_string(),
            "add_index: schema main already has an index named idx"
        );
        let e = ModelError::WrongTargetKind {
            op: "drop_unique",
            expected: "unique constraint",
            id: ObjectId::new("chk_1"),
            found: "check constraint c on main.t".into(),
        };
        assert_eq!(
            e.to_string(),
            "drop_unique: chk_1 is check constraint c on main.t, not a unique constraint"
        );
        assert_eq!(e.kind(), "wrong_target_kind");
        assert_eq!(e.op(), "drop_unique");
        assert!(!e.to_string().contains('\n'));
    }
}
