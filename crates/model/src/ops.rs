//! Schema operations: the append-only log a project is built from.
//!
//! An op is `{id, ts, target, op, payload}` in JSON, for example
//! `{"id":"op_1","ts":"2026-01-01T00:00:00Z","target":"sch_1","op":"add_table","payload":{"id":"tbl_1","name":"customers"}}`.
//!
//! `target` is the object the op acts on. Ops that create an object target its
//! parent (the root for a catalog, a catalog for a schema, a schema for a
//! table, a table for a column or a constraint) and carry the new object's id
//! in the payload; every other op targets the object it changes.

use crate::ids::ObjectId;
use crate::state::{FkAction, TableRef};
use crate::types::DataType;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One operation of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Op {
    /// Unique op id.
    pub id: String,
    /// When the op was recorded.
    pub ts: DateTime<Utc>,
    /// The object the op acts on (see the module docs).
    pub target: ObjectId,
    /// What the op does.
    #[serde(flatten)]
    pub action: Action,
}

/// What an op does. Serialized adjacently tagged: `"op": "...", "payload": {...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(tag = "op", content = "payload", rename_all = "snake_case")]
pub enum Action {
    /// Add a catalog (target: root).
    AddCatalog {
        /// New catalog id.
        id: ObjectId,
        /// Catalog name.
        name: String,
    },
    /// Rename a catalog (target: the catalog).
    RenameCatalog {
        /// New name.
        name: String,
    },
    /// Drop a catalog and everything in it (target: the catalog).
    DropCatalog,
    /// Add a schema (target: its catalog).
    AddSchema {
        /// New schema id.
        id: ObjectId,
        /// Schema name.
        name: String,
    },
    /// Rename a schema (target: the schema).
    RenameSchema {
        /// New name.
        name: String,
    },
    /// Drop a schema and its tables (target: the schema).
    DropSchema,
    /// Add an empty table (target: its schema).
    AddTable {
        /// New table id.
        id: ObjectId,
        /// Table name.
        name: String,
    },
    /// Rename a table (target: the table).
    RenameTable {
        /// New name.
        name: String,
    },
    /// Drop a table (target: the table).
    DropTable,
    /// Add a column (target: its table).
    AddColumn {
        /// New column id.
        id: ObjectId,
        /// Column name.
        name: String,
        /// Logical type.
        data_type: DataType,
        /// Whether NULL is allowed (default true).
        #[serde(default = "default_true")]
        nullable: bool,
        /// Default expression.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
        /// Comment.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
        /// Identity / auto-increment.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        identity: bool,
        /// Zero-based position; appended at the end when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        position: Option<usize>,
    },
    /// Rename a column (target: the column).
    RenameColumn {
        /// New name.
        name: String,
    },
    /// Drop a column (target: the column).
    DropColumn,
    /// Change a column's type (target: the column).
    ChangeColumnType {
        /// New type.
        data_type: DataType,
    },
    /// Set or clear NOT NULL (target: the column).
    SetNullable {
        /// Whether NULL is allowed.
        nullable: bool,
    },
    /// Set or clear a column default (target: the column).
    SetDefault {
        /// New default expression, `None` to drop it.
        #[serde(default)]
        default: Option<String>,
    },
    /// Set or clear identity / auto-increment (target: the column).
    SetIdentity {
        /// Whether the column is an identity column.
        identity: bool,
    },
    /// Set or clear the comment of a catalog, schema, table or column (target: the object).
    SetComment {
        /// New comment, `None` to clear it.
        #[serde(default)]
        comment: Option<String>,
    },
    /// Reorder a table's columns (target: the table). `order` lists every column id once.
    ReorderColumns {
        /// Column ids in their new order.
        order: Vec<ObjectId>,
    },
    /// Add a primary key (target: the table).
    AddPrimaryKey {
        /// New constraint id.
        id: ObjectId,
        /// Constraint name; `{table}_pkey` when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Column names.
        columns: Vec<String>,
    },
    /// Drop the primary key (target: the table).
    DropPrimaryKey,
    /// Add a unique constraint (target: the table).
    AddUnique {
        /// New constraint id.
        id: ObjectId,
        /// Constraint name.
        name: String,
        /// Column names.
        columns: Vec<String>,
    },
    /// Drop a unique constraint (target: the constraint).
    DropUnique,
    /// Add an index (target: the table).
    AddIndex {
        /// New index id.
        id: ObjectId,
        /// Index name.
        name: String,
        /// Column names.
        columns: Vec<String>,
        /// Unique index.
        #[serde(default)]
        unique: bool,
    },
    /// Drop an index (target: the index).
    DropIndex,
    /// Add a foreign key (target: the referencing table).
    AddForeignKey {
        /// New constraint id.
        id: ObjectId,
        /// Constraint name.
        name: String,
        /// Referencing columns.
        columns: Vec<String>,
        /// Referenced table.
        references: TableRef,
        /// Referenced columns.
        ref_columns: Vec<String>,
        /// ON DELETE action.
        #[serde(default)]
        on_delete: FkAction,
        /// ON UPDATE action.
        #[serde(default)]
        on_update: FkAction,
    },
    /// Drop a foreign key (target: the constraint).
    DropForeignKey,
    /// Add a check constraint (target: the table).
    AddCheck {
        /// New constraint id.
        id: ObjectId,
        /// Constraint name.
        name: String,
        /// Boolean SQL expression.
        expression: String,
    },
    /// Drop a check constraint (target: the constraint).
    DropCheck,
    /// Set a table property (target: the table).
    SetTableProperty {
        /// Property key.
        key: String,
        /// Property value.
        value: String,
    },
    /// Remove a table property (target: the table).
    UnsetTableProperty {
        /// Property key.
        key: String,
    },
}

fn default_true() -> bool {
    true
}

impl Action {
    /// The snake_case name of the op, as in the JSON `op` field.
    pub fn name(&self) -> &'static str {
        match self {
            Action::AddCatalog { .. } => "add_catalog",
            Action::RenameCatalog { .. } => "rename_catalog",
            Action::DropCatalog => "drop_catalog",
            Action::AddSchema { .. } => "add_schema",
            Action::RenameSchema { .. } => "rename_schema",
            Action::DropSchema => "drop_schema",
            Action::AddTable { .. } => "add_table",
            Action::RenameTable { .. } => "rename_table",
            Action::DropTable => "drop_table",
            Action::AddColumn { .. } => "add_column",
            Action::RenameColumn { .. } => "rename_column",
            Action::DropColumn => "drop_column",
            Action::ChangeColumnType { .. } => "change_column_type",
            Action::SetNullable { .. } => "set_nullable",
            Action::SetDefault { .. } => "set_default",
            Action::SetIdentity { .. } => "set_identity",
            Action::SetComment { .. } => "set_comment",
            Action::ReorderColumns { .. } => "reorder_columns",
            Action::AddPrimaryKey { .. } => "add_primary_key",
            Action::DropPrimaryKey => "drop_primary_key",
            Action::AddUnique { .. } => "add_unique",
            Action::DropUnique => "drop_unique",
            Action::AddIndex { .. } => "add_index",
            Action::DropIndex => "drop_index",
            Action::AddForeignKey { .. } => "add_foreign_key",
            Action::DropForeignKey => "drop_foreign_key",
            Action::AddCheck { .. } => "add_check",
            Action::DropCheck => "drop_check",
            Action::SetTableProperty { .. } => "set_table_property",
            Action::UnsetTableProperty { .. } => "unset_table_property",
        }
    }
}
