//! The schema state: catalog → schema → table → column, plus table constraints.
//!
//! Constraints refer to columns and tables by *name*; the reducer keeps those
//! names in step when a column, table or schema is renamed. Every named object
//! also carries a stable [`ObjectId`] that ops target.

use crate::ids::ObjectId;
use crate::types::DataType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole schema project state (or a live database read into the model).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct State {
    /// Catalogs in creation order.
    #[serde(default)]
    pub catalogs: Vec<Catalog>,
}

/// A catalog (a database on PostgreSQL / SQL Server, a Unity catalog on Databricks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Catalog {
    /// Stable id.
    pub id: ObjectId,
    /// Catalog name.
    pub name: String,
    /// Optional comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Schemas in creation order.
    #[serde(default)]
    pub schemas: Vec<Schema>,
}

/// A schema (a database on MySQL, `main` on SQLite).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Schema {
    /// Stable id.
    pub id: ObjectId,
    /// Schema name.
    pub name: String,
    /// Optional comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Tables in creation order.
    #[serde(default)]
    pub tables: Vec<Table>,
}

/// A table with its ordered columns and constraints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Table {
    /// Stable id.
    pub id: ObjectId,
    /// Table name.
    pub name: String,
    /// Columns in their physical order.
    #[serde(default)]
    pub columns: Vec<Column>,
    /// The primary key, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<PrimaryKey>,
    /// Unique constraints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uniques: Vec<UniqueConstraint>,
    /// Secondary indexes (not the ones a key implies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    /// Foreign keys from this table.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
    /// Check constraints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckConstraint>,
    /// Optional comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Key/value properties (tags, Databricks TBLPROPERTIES).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Column {
    /// Stable id.
    pub id: ObjectId,
    /// Column name.
    pub name: String,
    /// Logical type (or a raw, dialect-specific type).
    pub data_type: DataType,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Default expression as SQL text, e.g. `0`, `'new'`, `CURRENT_TIMESTAMP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Optional comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Identity / auto-increment / serial.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub identity: bool,
}

/// A primary key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct PrimaryKey {
    /// Stable id.
    pub id: ObjectId,
    /// Constraint name (`{table}_pkey` by convention).
    pub name: String,
    /// Column names, in key order.
    pub columns: Vec<String>,
}

/// A unique constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct UniqueConstraint {
    /// Stable id.
    pub id: ObjectId,
    /// Constraint name.
    pub name: String,
    /// Column names.
    pub columns: Vec<String>,
}

/// A secondary index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Index {
    /// Stable id.
    pub id: ObjectId,
    /// Index name.
    pub name: String,
    /// Column names (or expressions kept verbatim), in index order.
    pub columns: Vec<String>,
    /// Whether the index enforces uniqueness.
    #[serde(default)]
    pub unique: bool,
}

/// What a foreign key does when the referenced row changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum FkAction {
    /// `NO ACTION` (the SQL default).
    #[default]
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`.
    Cascade,
    /// `SET NULL`.
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
}

/// A reference to a table by schema and table name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct TableRef {
    /// Schema name.
    pub schema: String,
    /// Table name.
    pub table: String,
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct ForeignKey {
    /// Stable id.
    pub id: ObjectId,
    /// Constraint name.
    pub name: String,
    /// Referencing columns of this table.
    pub columns: Vec<String>,
    /// The referenced table (same catalog).
    pub references: TableRef,
    /// Referenced columns, same length as `columns`.
    pub ref_columns: Vec<String>,
    /// `ON DELETE` action.
    #[serde(default)]
    pub on_delete: FkAction,
    /// `ON UPDATE` action.
    #[serde(default)]
    pub on_update: FkAction,
}

/// A check constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct CheckConstraint {
    /// Stable id.
    pub id: ObjectId,
    /// Constraint name.
    pub name: String,
    /// The boolean SQL expression, e.g. `price >= 0`.
    pub expression: String,
}
