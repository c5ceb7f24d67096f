//! The closed set of differences between two states.
//!
//! Naming convention, which the SQL planner relies on:
//! - drops (`Drop*`) name objects as they are in the **from** state;
//! - renames carry both names;
//! - everything else names objects as they are in the **to** state.
//!
//! A planner can therefore run all drops first, then renames, then adds and
//! alterations, without translating names. A new table's indexes and foreign
//! keys come as separate `AddIndex` / `AddForeignKey` changes so tables can be
//! created before the keys that point at them; its primary key, uniques and
//! checks travel inside [`Change::AddTable`].

use crate::state::{
    CheckConstraint, Column, ForeignKey, Index, PrimaryKey, Table, UniqueConstraint,
};
use crate::types::DataType;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A fully qualified table name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct QualifiedName {
    /// Catalog name.
    pub catalog: String,
    /// Schema name.
    pub schema: String,
    /// Table name.
    pub name: String,
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// One difference between two states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// A new catalog.
    AddCatalog {
        /// Catalog name.
        name: String,
    },
    /// A dropped catalog.
    DropCatalog {
        /// Catalog name.
        name: String,
    },
    /// A renamed catalog.
    RenameCatalog {
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// A new schema.
    AddSchema {
        /// Catalog name.
        catalog: String,
        /// Schema name.
        name: String,
        /// Comment, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// A dropped schema (its tables come as separate `DropTable` changes first).
    DropSchema {
        /// Catalog name.
        catalog: String,
        /// Schema name.
        name: String,
    },
    /// A renamed schema.
    RenameSchema {
        /// Catalog name.
        catalog: String,
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// A schema comment changed.
    SetSchemaComment {
        /// Catalog name.
        catalog: String,
        /// Schema name.
        name: String,
        /// Old comment.
        from: Option<String>,
        /// New comment.
        to: Option<String>,
    },
    /// A new table with its columns, primary key, uniques and checks.
    AddTable {
        /// Table name.
        table: QualifiedName,
        /// The table (its `indexes` and `foreign_keys` are empty here; they come as separate changes).
        definition: Table,
    },
    /// A dropped table, with its full definition (for down plans and reports).
    DropTable {
        /// Table name.
        table: QualifiedName,
        /// The dropped table.
        definition: Table,
    },
    /// A renamed table.
    RenameTable {
        /// Old qualified name.
        from: QualifiedName,
        /// New table name (same schema).
        to: String,
    },
    /// A table comment changed.
    SetTableComment {
        /// Table name.
        table: QualifiedName,
        /// Old comment.
        from: Option<String>,
        /// New comment.
        to: Option<String>,
    },
    /// A table property was set or changed.
    SetTableProperty {
        /// Table name.
        table: QualifiedName,
        /// Property key.
        key: String,
        /// Old value.
        from: Option<String>,
        /// New value.
        to: String,
    },
    /// A table property was removed.
    UnsetTableProperty {
        /// Table name.
        table: QualifiedName,
        /// Property key.
        key: String,
        /// Old value.
        from: String,
    },
    /// A new column.
    AddColumn {
        /// Table name.
        table: QualifiedName,
        /// The column.
        column: Column,
        /// Zero-based position in the to state.
        position: usize,
    },
    /// A dropped column.
    DropColumn {
        /// Table name.
        table: QualifiedName,
        /// The dropped column.
        column: Column,
    },
    /// A renamed column.
    RenameColumn {
        /// Table name (to state).
        table: QualifiedName,
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// A column's type changed.
    ChangeColumnType {
        /// Table name.
        table: QualifiedName,
        /// Column name.
        column: String,
        /// Old type.
        from: DataType,
        /// New type.
        to: DataType,
    },
    /// A column's nullability changed.
    SetColumnNullable {
        /// Table name.
        table: QualifiedName,
        /// Column name.
        column: String,
        /// Whether NULL is now allowed.
        nullable: bool,
    },
    /// A column's default changed.
    SetColumnDefault {
        /// Table name.
        table: QualifiedName,
        /// Column name.
        column: String,
        /// Old default.
        from: Option<String>,
        /// New default.
        to: Option<String>,
    },
    /// A column's identity flag changed.
    SetColumnIdentity {
        /// Table name.
        table: QualifiedName,
        /// Column name.
        column: String,
        /// Whether the column is now an identity column.
        identity: bool,
    },
    /// A column's comment changed.
    SetColumnComment {
        /// Table name.
        table: QualifiedName,
        /// Column name.
        column: String,
        /// Old comment.
        from: Option<String>,
        /// New comment.
        to: Option<String>,
    },
    /// The column order changed (names as in the to state).
    ReorderColumns {
        /// Table name.
        table: QualifiedName,
        /// Old order.
        from: Vec<String>,
        /// New order.
        to: Vec<String>,
    },
    /// A new primary key.
    AddPrimaryKey {
        /// Table name.
        table: QualifiedName,
        /// The key.
        key: PrimaryKey,
    },
    /// A dropped primary key.
    DropPrimaryKey {
        /// Table name.
        table: QualifiedName,
        /// The key.
        key: PrimaryKey,
    },
    /// A new unique constraint.
    AddUnique {
        /// Table name.
        table: QualifiedName,
        /// The constraint.
        constraint: UniqueConstraint,
    },
    /// A dropped unique constraint.
    DropUnique {
        /// Table name.
        table: QualifiedName,
        /// The constraint.
        constraint: UniqueConstraint,
    },
    /// A new index.
    AddIndex {
        /// Table name.
        table: QualifiedName,
        /// The index.
        index: Index,
    },
    /// A dropped index.
    DropIndex {
        /// Table name.
        table: QualifiedName,
        /// The index.
        index: Index,
    },
    /// A new foreign key.
    AddForeignKey {
        /// Referencing table.
        table: QualifiedName,
        /// The key.
        foreign_key: ForeignKey,
    },
    /// A dropped foreign key.
    DropForeignKey {
        /// Referencing table.
        table: QualifiedName,
        /// The key.
        foreign_key: ForeignKey,
    },
    /// A new check constraint.
    AddCheck {
        /// Table name.
        table: QualifiedName,
        /// The check.
        check: CheckConstraint,
    },
    /// A dropped check constraint.
    DropCheck {
        /// Table name.
        table: QualifiedName,
        /// The check.
        check: CheckConstraint,
    },
}
