//! The one error type of DDL import.

use super::SourceDialect;

/// Why a DDL file could not be imported. Each message is one line that names
/// the statement (and its line) so the user can fix the file; nothing is
/// imported when any statement fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The text is not valid SQL for the dialect, as sqlparser reports it.
    #[error("syntax error in {dialect} DDL at line {line}, column {column}: {message}")]
    Syntax {
        /// The dialect the file was read as.
        dialect: SourceDialect,
        /// 1-based line of the offending token (0 when sqlparser gave none).
        line: u64,
        /// 1-based column of the offending token (0 when sqlparser gave none).
        column: u64,
        /// sqlparser's message without its location suffix.
        message: String,
    },
    /// A statement names a table that neither the project nor the file has.
    #[error("line {line}: {statement}: no table {table} in the project or earlier in the file")]
    UnknownTable {
        /// Line where the statement starts.
        line: u64,
        /// The statement's leading words, e.g. `CREATE INDEX idx_x`.
        statement: String,
        /// The table as `schema.table`.
        table: String,
    },
    /// A comment names a schema that neither the project nor the file has.
    #[error("line {line}: {statement}: no schema {schema} in the project or earlier in the file")]
    UnknownSchema {
        /// Line where the statement starts.
        line: u64,
        /// The statement's leading words.
        statement: String,
        /// The schema name.
        schema: String,
    },
    /// `CREATE TABLE` (without `IF NOT EXISTS`) of a table that already exists.
    #[error("line {line}: {statement}: table {table} already exists in the project or earlier in the file")]
    DuplicateTable {
        /// Line where the statement starts.
        line: u64,
        /// The statement's leading words.
        statement: String,
        /// The table as `schema.table`.
        table: String,
    },
    /// `CREATE SCHEMA` (without `IF NOT EXISTS`) of a schema that already exists.
    #[error("line {line}: {statement}: schema {schema} already exists in the project or earlier in the file")]
    DuplicateSchema {
        /// Line where the statement starts.
        line: u64,
        /// The statement's leading words.
        statement: String,
        /// The schema name.
        schema: String,
    },
    /// A column is declared twice, or added when it already exists.
    #[error("line {line}: {statement}: column {column} already exists in table {table}")]
    DuplicateColumn {
        /// Line where the statement starts.
        line: u64,
        /// The statement's leading words.
        statement: String,
        /// The table as `schema.table`.
        table: String,
        /// The column name.
        column: String,
    },
    /// A constraint, index or comment names a column the table does not have.
    #[error("line {line}: {statement}: no column {column} in table {table}")]
    UnknownColumn {
        /// Line where the statement starts.
        line: u64,
        /// The statement's leading words.
        statement: String,
        /// The table as `schema.table`.
        table: String,
        /// The column name as written.
        column: String,
    },
    /// A second primary key for one table.
    #[error("line {line}: {statement}: table {table} already has a primary key")]
    DuplicatePrimaryKey {
        /// Line where the statement starts.
        line: u64,
        /// The statement's leading words.
        statement: String,
        /// The table as `schema.table`.
        table: String,
    },
    /// An index name that is already taken on the table.
    #[error("line {line}: {statement}: index {index} already exists on table {table}")]
    DuplicateIndex {
        /// Line where the statement starts.
        line: u64,
        /// The statement's leading words.
        statement: String,
        /// The table as `schema.table`.
        table: String,
        /// The index name.
        index: String,
    },
    /// Valid SQL that the model cannot represent faithfully, e.g. a foreign
    /// key whose column lists differ in length.
    #[error("line {line}: {statement}: {reason}")]
    Unsupported {
        /// Line where the statement starts.
        line: u64,
        /// The statement's leading words.
        statement: String,
        /// What is wrong, in words a user can act on.
        reason: String,
    },
}
