//! Name translation between the from and the to state of one set of changes.
//!
//! Changes name objects by the convention in `tidemark_model::change`: drops
//! use from-state names, renames carry both (with parents already under their
//! to-state names), everything else uses to-state names. Rendering sometimes
//! needs the other side's name — the old definition of a table whose column is
//! altered, the new name of a table whose column is dropped — and the renames
//! in the same change list are exactly what links the two.

use tidemark_model::{Change, QualifiedName};

/// The renames of one change list, for translating names in both directions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renames {
    catalogs: Vec<(String, String)>,
    /// `(catalog under its to-state name, old schema, new schema)`.
    schemas: Vec<(String, String, String)>,
    /// `(old table with to-state parents, new table name)`.
    tables: Vec<(QualifiedName, String)>,
    /// `(table under its to-state name, old column, new column)`.
    columns: Vec<(QualifiedName, String, String)>,
}

impl Renames {
    /// Collects the renames of a change list.
    pub fn new(changes: &[Change]) -> Self {
        let mut renames = Renames::default();
        for change in changes {
            match change {
                Change::RenameCatalog { from, to } => {
                    renames.catalogs.push((from.clone(), to.clone()));
                }
                Change::RenameSchema { catalog, from, to } => {
                    renames
                        .schemas
                        .push((catalog.clone(), from.clone(), to.clone()));
                }
                Change::RenameTable { from, to } => {
                    renames.tables.push((from.clone(), to.clone()));
                }
                Change::RenameColumn { table, from, to } => {
                    renames
                        .columns
                        .push((table.clone(), from.clone(), to.clone()));
                }
                _ => {}
            }
        }
        renames
    }

    /// The from-state name of a catalog known by its to-state name.
    pub fn catalog_back(&self, to: &str) -> String {
        self.catalogs
            .iter()
            .find(|(_, t)| t == to)
            .map_or(to, |(f, _)| f)
            .to_string()
    }

    /// The to-state name of a catalog known by its from-state name.
    pub fn catalog_forward(&self, from: &str) -> String {
        self.catalogs
            .iter()
            .find(|(f, _)| f == from)
            .map_or(from, |(_, t)| t)
            .to_string()
    }

    /// The from-state name of a schema, both names under the to-state catalog.
    pub fn schema_back(&self, catalog: &str, to: &str) -> String {
        self.schemas
            .iter()
            .find(|(c, _, t)| c == catalog && t == to)
            .map_or(to, |(_, f, _)| f)
            .to_string()
    }

    /// The to-state name of a schema known by its from-state name.
    pub fn schema_forward(&self, catalog: &str, from: &str) -> String {
        self.schemas
            .iter()
            .find(|(c, f, _)| c == catalog && f == from)
            .map_or(from, |(_, _, t)| t)
            .to_string()
    }

    /// The from-state name of a table known by its to-state name.
    pub fn table_back(&self, to: &QualifiedName) -> QualifiedName {
        let name = self
            .tables
            .iter()
            .find(|(f, t)| f.catalog == to.catalog && f.schema == to.schema && *t == to.name)
            .map_or(&to.name, |(f, _)| &f.name);
        QualifiedName {
            catalog: self.catalog_back(&to.catalog),
            schema: self.schema_back(&to.catalog, &to.schema),
            name: name.clone(),
        }
    }

    /// The to-state name of a table known by its from-state name.
    pub fn table_forward(&self, from: &QualifiedName) -> QualifiedName {
        let catalog = self.catalog_forward(&from.catalog);
        let schema = self.schema_forward(&catalog, &from.schema);
        let name = self
            .tables
            .iter()
            .find(|(f, _)| f.catalog == catalog && f.schema == schema && f.name == from.name)
            .map_or(&from.name, |(_, t)| t);
        QualifiedName {
            catalog,
            schema,
            name: name.clone(),
        }
    }

    /// The from-state name of a column of a table known by its to-state name.
    pub fn column_back(&self, table: &QualifiedName, to: &str) -> String {
        self.columns
            .iter()
            .find(|(t, _, n)| t == table && n == to)
            .map_or(to, |(_, f, _)| f)
            .to_string()
    }

    /// The to-state name of a column known by its from-state name.
    pub fn column_forward(&self, table: &QualifiedName, from: &str) -> String {
        self.columns
            .iter()
            .find(|(t, f, _)| t == table && f == from)
            .map_or(from, |(_, _, n)| n)
            .to_string()
    }

    /// Whether a column of this table (to-state name) is renamed.
    pub fn column_renamed(&self, table: &QualifiedName, to: &str) -> bool {
        self.columns.iter().any(|(t, _, n)| t == table && n == to)
    }
}
