//! Parsed statements → ops, resolving names the way the database would.
//!
//! The importer keeps its own small picture of the catalog (schemas, tables,
//! columns, keys and the names taken in each schema), seeded from the state
//! and updated with every op it emits. It never applies ops to a `State`:
//! the reducer belongs to the model, and the importer only has to know what
//! exists, not to build it.

use super::names::Namespace;
use super::split::{parser_dialect, Body, SourceStatement};
use super::types::map_type;
use super::{DdlImport, ImportContext, ImportedOp, ParseError, SourceDialect};
use sqlparser::ast::{
    AlterColumnOperation, AlterTable, AlterTableOperation, BinaryOperator, ColumnDef, ColumnOption,
    CommentDef, CommentObject, CreateIndex, CreateTable, CreateTableOptions, Expr, Ident,
    IndexColumn, IndexType, MySQLColumnPosition, NullsDistinctOption, ObjectName, OrderBySort,
    ReferentialAction, SchemaName, SqlOption, Statement, TableConstraint, Use,
};
use sqlparser::tokenizer::{Token, Tokenizer};
use tidemark_model::{Action, FkAction, ObjectId, State, TableRef};

/// Where a statement starts and how to name it in messages.
#[derive(Debug, Clone)]
struct Origin {
    line: u64,
    /// The statement's leading words, e.g. `CREATE TABLE public.orders`.
    statement: String,
}

/// Index of a schema and of a table in it, in the importer's picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TableKey {
    schema: usize,
    table: usize,
}

#[derive(Debug)]
struct SchemaInfo {
    id: ObjectId,
    name: String,
    /// Created by this import because a table needed it, not by `CREATE
    /// SCHEMA`; a later `CREATE SCHEMA` of it is then no duplicate.
    implicit: bool,
    tables: Vec<TableInfo>,
    names: Namespace,
}

#[derive(Debug)]
struct TableInfo {
    id: ObjectId,
    name: String,
    columns: Vec<ColumnInfo>,
    primary_key: Option<Vec<String>>,
    indexes: Vec<String>,
}

#[derive(Debug)]
struct ColumnInfo {
    id: ObjectId,
    name: String,
    nullable: bool,
}

/// A column of a `CREATE TABLE` or `ADD COLUMN` before it becomes an op.
#[derive(Debug)]
struct ColumnDraft {
    name: String,
    data_type: tidemark_model::DataType,
    nullable: bool,
    default: Option<String>,
    comment: Option<String>,
    identity: bool,
}

/// A constraint or index as written, before names and columns are resolved.
#[derive(Debug)]
enum Draft {
    PrimaryKey {
        name: Option<String>,
        columns: Vec<String>,
    },
    Unique {
        name: Option<String>,
        columns: Vec<String>,
    },
    Check {
        name: Option<String>,
        expression: Box<Expr>,
    },
    ForeignKey {
        name: Option<String>,
        columns: Vec<String>,
        references: ObjectName,
        ref_columns: Vec<String>,
        on_delete: FkAction,
        on_update: FkAction,
    },
    Index {
        name: Option<String>,
        columns: Vec<IndexColumn>,
    },
}

impl Draft {
    /// Emission order inside one `CREATE TABLE`: keys, checks, indexes.
    fn rank(&self) -> u8 {
        match self {
            Draft::PrimaryKey { .. } => 0,
            Draft::Unique { .. } => 1,
            Draft::Check { .. } => 2,
            Draft::Index { .. } => 3,
            Draft::ForeignKey { .. } => 4,
        }
    }
}

/// A foreign key waiting for the end of the file, when every table the file
/// creates is known.
#[derive(Debug)]
struct PendingFk {
    origin: Origin,
    table: TableKey,
    name: String,
    columns: Vec<String>,
    ref_schema: String,
    ref_table: String,
    ref_columns: Vec<String>,
    on_delete: FkAction,
    on_update: FkAction,
}

/// Turns statements into ops; see the module docs.
pub(crate) struct Importer<'c, 'a> {
    dialect: SourceDialect,
    ctx: &'c mut ImportContext<'a>,
    catalog_id: Option<ObjectId>,
    catalog_name: String,
    schemas: Vec<SchemaInfo>,
    /// Schema of unqualified names; MySQL's `USE` moves it.
    current_schema: String,
    ops: Vec<ImportedOp>,
    pending_fks: Vec<PendingFk>,
    skipped: Vec<String>,
}

impl<'c, 'a> Importer<'c, 'a> {
    /// Seeds the picture from the catalog of `state` named `ctx.catalog`.
    pub fn new(dialect: SourceDialect, state: &State, ctx: &'c mut ImportContext<'a>) -> Self {
        let catalog_name = ctx.catalog.to_string();
        let current_schema = ctx.default_schema.to_string();
        let mut importer = Importer {
            dialect,
            ctx,
            catalog_id: None,
            catalog_name,
            schemas: Vec::new(),
            current_schema,
            ops: Vec::new(),
            pending_fks: Vec::new(),
            skipped: Vec::new(),
        };
        let catalog = state
            .catalogs
            .iter()
            .find(|c| importer.same_name(&c.name, &importer.catalog_name));
        if let Some(catalog) = catalog {
            importer.catalog_id = Some(catalog.id.clone());
            importer.catalog_name = catalog.name.clone();
            for schema in &catalog.schemas {
                let mut names = Namespace::default();
                let mut tables = Vec::new();
                for table in &schema.tables {
                    names.take(&table.name);
                    let constraint_names = table
                        .primary_key
                        .iter()
                        .map(|pk| &pk.name)
                        .chain(table.uniques.iter().map(|u| &u.name))
                        .chain(table.indexes.iter().map(|i| &i.name))
                        .chain(table.foreign_keys.iter().map(|f| &f.name))
                        .chain(table.checks.iter().map(|c| &c.name));
                    for name in constraint_names {
                        names.take(name);
                    }
                    tables.push(TableInfo {
                        id: table.id.clone(),
                        name: table.name.clone(),
                        columns: table
                            .columns
                            .iter()
                            .map(|c| ColumnInfo {
                                id: c.id.clone(),
                                name: c.name.clone(),
                                nullable: c.nullable,
                            })
                            .collect(),
                        primary_key: table.primary_key.as_ref().map(|pk| pk.columns.clone()),
                        indexes: table.indexes.iter().map(|i| i.name.clone()).collect(),
                    });
                }
                importer.schemas.push(SchemaInfo {
                    id: schema.id.clone(),
                    name: schema.name.clone(),
                    implicit: false,
                    tables,
                    names,
                });
            }
        }
        importer
    }

    /// Imports one statement.
    pub fn statement(&mut self, source: SourceStatement) -> Result<(), ParseError> {
        let line = source.line;
        let statement = match source.body {
            Body::Unreadable(message) => {
                self.skip(line, format!("{} (not parsed: {message})", source.summary));
                return Ok(());
            }
            Body::Parsed(statement) => statement,
        };
        match *statement {
            Statement::CreateTable(create) => self.create_table(line, &source.summary, create),
            Statement::CreateIndex(create) => self.create_index(line, create),
            Statement::AlterTable(alter) => self.alter_table(line, &source.summary, alter),
            Statement::Comment {
                object_type,
                object_name,
                comment,
                if_exists,
            } => self.comment(
                line,
                &source.summary,
                object_type,
                &object_name,
                comment,
                if_exists,
            ),
            Statement::CreateSchema {
                schema_name,
                if_not_exists,
                ..
            } => {
                let name = match &schema_name {
                    SchemaName::Simple(name) | SchemaName::NamedAuthorization(name, _) => {
                        match name.0.last().and_then(|p| p.as_ident()) {
                            Some(ident) => self.ident(ident),
                            None => name.to_string(),
                        }
                    }
                    // PostgreSQL names the schema after the user.
                    SchemaName::UnnamedAuthorization(user) => self.ident(user),
                };
                let origin = Origin {
                    line,
                    statement: format!("CREATE SCHEMA {schema_name}"),
                };
                self.create_schema(&origin, &name, if_not_exists)
            }
            // A MySQL database is a schema of the model.
            Statement::CreateDatabase {
                db_name,
                if_not_exists,
                ..
            } if self.dialect == SourceDialect::Mysql => {
                let origin = Origin {
                    line,
                    statement: format!("CREATE DATABASE {db_name}"),
                };
                let name = self.last_ident(&db_name);
                self.create_schema(&origin, &name, if_not_exists)
            }
            Statement::Execute {
                name: Some(name),
                parameters,
                ..
            } if self.dialect == SourceDialect::SqlServer
                && ["sp_addextendedproperty", "sp_updateextendedproperty"]
                    .iter()
                    .any(|p| self.last_ident(&name).eq_ignore_ascii_case(p)) =>
            {
                self.extended_property(line, &source.summary, &name, &parameters)
            }
            Statement::Use(Use::Object(name) | Use::Database(name) | Use::Schema(name))
                if self.dialect == SourceDialect::Mysql =>
            {
                self.current_schema = self.last_ident(&name);
                Ok(())
            }
            _ => {
                self.skip(line, source.summary);
                Ok(())
            }
        }
    }

    /// Resolves the foreign keys and hands back the result.
    pub fn finish(mut self) -> Result<DdlImport, ParseError> {
        for fk in std::mem::take(&mut self.pending_fks) {
            let Some(target) = self.find_table(&fk.ref_schema, &fk.ref_table) else {
                return Err(ParseError::UnknownTable {
                    line: fk.origin.line,
                    statement: fk.origin.statement,
                    table: format!("{}.{}", fk.ref_schema, fk.ref_table),
                });
            };
            let referenced = &self.schemas[target.schema].tables[target.table];
            let ref_display = self.display_table(target);
            let ref_columns = if fk.ref_columns.is_empty() {
                // `REFERENCES t` without columns means t's primary key.
                match &referenced.primary_key {
                    Some(columns) => columns.clone(),
                    None => {
                        return Err(ParseError::Unsupported {
                            line: fk.origin.line,
                            statement: fk.origin.statement,
                            reason: format!(
                                "foreign key {} names no referenced columns and {ref_display} has no primary key",
                                fk.name
                            ),
                        })
                    }
                }
            } else {
                let mut resolved = Vec::new();
                for column in &fk.ref_columns {
                    match self.find_column(target, column) {
                        Some(c) => resolved.push(referenced.columns[c].name.clone()),
                        None => {
                            return Err(ParseError::UnknownColumn {
                                line: fk.origin.line,
                                statement: fk.origin.statement,
                                table: ref_display,
                                column: column.clone(),
                            })
                        }
                    }
                }
                resolved
            };
            if ref_columns.len() != fk.columns.len() {
                return Err(ParseError::Unsupported {
                    line: fk.origin.line,
                    statement: fk.origin.statement,
                    reason: format!(
                        "foreign key {} has {} column(s) but references {} column(s) of {ref_display}",
                        fk.name,
                        fk.columns.len(),
                        ref_columns.len()
                    ),
                });
            }
            let references = TableRef {
                schema: self.schemas[target.schema].name.clone(),
                table: referenced.name.clone(),
            };
            let id = self.new_id("fk");
            let table_id = self.table(fk.table).id.clone();
            self.push(
                table_id,
                Action::AddForeignKey {
                    id,
                    name: fk.name,
                    columns: fk.columns,
                    references,
                    ref_columns,
                    on_delete: fk.on_delete,
                    on_update: fk.on_update,
                },
            );
        }
        Ok(DdlImport {
            ops: self.ops,
            skipped: self.skipped,
        })
    }

    // ----- statements -------------------------------------------------

    fn create_schema(
        &mut self,
        origin: &Origin,
        name: &str,
        if_not_exists: bool,
    ) -> Result<(), ParseError> {
        if let Some(s) = self.find_schema(name) {
            if self.schemas[s].implicit {
                self.schemas[s].implicit = false;
                return Ok(());
            }
            if if_not_exists {
                self.skip(
                    origin.line,
                    format!("{}: schema {name} already exists", origin.statement),
                );
                return Ok(());
            }
            return Err(ParseError::DuplicateSchema {
                line: origin.line,
                statement: origin.statement.clone(),
                schema: name.to_string(),
            });
        }
        self.add_schema(name, false);
        Ok(())
    }

    fn create_table(
        &mut self,
        line: u64,
        summary: &str,
        create: CreateTable,
    ) -> Result<(), ParseError> {
        let origin = Origin {
            line,
            statement: format!("CREATE TABLE {}", create.name),
        };
        let not_a_table = if create.temporary {
            Some("a temporary table is not part of the schema")
        } else if create.query.is_some() {
            Some("CREATE TABLE … AS SELECT has no column types to import")
        } else if create.like.is_some() || create.clone.is_some() {
            Some("a table copied from another table has no columns to import")
        } else if create.partition_of.is_some() {
            Some("partitions are not imported; their parent table is")
        } else {
            None
        };
        if let Some(reason) = not_a_table {
            self.skip(line, format!("{summary} ({reason})"));
            return Ok(());
        }
        let (schema_name, table_name) = self.qualified(&origin, &create.name)?;
        if let Some(existing) = self.find_table(&schema_name, &table_name) {
            let table = self.display_table(existing);
            if create.if_not_exists {
                self.skip(
                    line,
                    format!("{}: table {table} already exists", origin.statement),
                );
                return Ok(());
            }
            return Err(ParseError::DuplicateTable {
                line,
                statement: origin.statement,
                table,
            });
        }

        let mut columns: Vec<ColumnDraft> = Vec::new();
        let mut drafts: Vec<Draft> = Vec::new();
        for def in &create.columns {
            let column = self.column_draft(&origin, def, &mut drafts);
            if columns
                .iter()
                .any(|c| self.same_name(&c.name, &column.name))
            {
                return Err(ParseError::DuplicateColumn {
                    line,
                    statement: origin.statement,
                    table: format!("{schema_name}.{table_name}"),
                    column: column.name,
                });
            }
            columns.push(column);
        }
        for constraint in &create.constraints {
            self.table_constraint(&origin, constraint, &mut drafts)?;
        }
        // Primary key columns are NOT NULL whether or not the file says so.
        for draft in &drafts {
            if let Draft::PrimaryKey { columns: key, .. } = draft {
                for column in columns.iter_mut() {
                    if key.iter().any(|k| self.same_name(k, &column.name)) {
                        column.nullable = false;
                    }
                }
            }
        }
        if let Some(inherits) = &create.inherits {
            let parents: Vec<String> = inherits.iter().map(ToString::to_string).collect();
            self.note(
                &origin,
                format!("INHERITS ({}) not imported", parents.join(", ")),
            );
        }
        if create.partition_by.is_some() {
            self.note(&origin, "PARTITION BY not imported".to_string());
        }

        let schema = self.ensure_schema(&schema_name);
        let key = self.add_table(schema, &table_name);
        for column in columns {
            self.add_column(key, column, None);
        }
        drafts.sort_by_key(Draft::rank);
        for draft in drafts {
            self.apply(&origin, key, draft, true)?;
        }
        let comment = create
            .comment
            .as_ref()
            .or_else(|| table_comment(&create.table_options));
        if let Some(comment) = comment {
            let text = match comment {
                CommentDef::WithEq(s) | CommentDef::WithoutEq(s) => s.clone(),
            };
            let id = self.table(key).id.clone();
            self.push(
                id,
                Action::SetComment {
                    comment: Some(text),
                },
            );
        }
        Ok(())
    }

    fn create_index(&mut self, line: u64, create: CreateIndex) -> Result<(), ParseError> {
        let origin = Origin {
            line,
            statement: match &create.name {
                Some(name) => format!("CREATE INDEX {name}"),
                None => format!("CREATE INDEX ON {}", create.table_name),
            },
        };
        let key = self.existing_table(&origin, &create.table_name)?;
        let name = create.name.as_ref().map(|n| self.last_ident(n));
        if let Some(name) = &name {
            let taken = self
                .table(key)
                .indexes
                .iter()
                .any(|i| self.same_name(i, name));
            if taken && create.if_not_exists {
                self.skip(
                    line,
                    format!("{}: index {name} already exists", origin.statement),
                );
                return Ok(());
            }
        }
        if let Some(using) = &create.using {
            if !matches!(using, IndexType::BTree) {
                self.note(&origin, format!("index method {using} not kept"));
            }
        }
        if !create.include.is_empty() {
            let include: Vec<String> = create.include.iter().map(ToString::to_string).collect();
            self.note(
                &origin,
                format!("INCLUDE ({}) not kept", include.join(", ")),
            );
        }
        if let Some(predicate) = &create.predicate {
            self.note(
                &origin,
                format!("partial index condition WHERE {predicate} not kept"),
            );
        }
        if create.nulls_distinct == Some(false) {
            self.note(&origin, "NULLS NOT DISTINCT not kept".to_string());
        }
        self.add_index(&origin, key, name, &create.columns, create.unique)
    }

    fn alter_table(
        &mut self,
        line: u64,
        summary: &str,
        alter: AlterTable,
    ) -> Result<(), ParseError> {
        let origin = Origin {
            line,
            statement: format!("ALTER TABLE {}", alter.name),
        };
        let (schema_name, table_name) = self.qualified(&origin, &alter.name)?;
        let imports_something = alter.operations.iter().any(|op| {
            matches!(
                op,
                AlterTableOperation::AddConstraint { .. }
                    | AlterTableOperation::AddColumn { .. }
                    | AlterTableOperation::AlterColumn { .. }
            )
        });
        if !imports_something {
            // Nothing to resolve, so an unknown name is no error: pg_dump
            // also sets owners of sequences and views with ALTER TABLE.
            self.skip(line, summary.to_string());
            return Ok(());
        }
        let Some(key) = self.find_table(&schema_name, &table_name) else {
            if alter.if_exists {
                self.skip(
                    line,
                    format!("{}: no table {schema_name}.{table_name}", origin.statement),
                );
                return Ok(());
            }
            return Err(ParseError::UnknownTable {
                line,
                statement: origin.statement,
                table: format!("{schema_name}.{table_name}"),
            });
        };
        for operation in alter.operations {
            match operation {
                AlterTableOperation::AddConstraint { constraint, .. } => {
                    let mut drafts = Vec::new();
                    self.table_constraint(&origin, &constraint, &mut drafts)?;
                    for draft in drafts {
                        self.apply(&origin, key, draft, false)?;
                    }
                }
                AlterTableOperation::AddColumn {
                    if_not_exists,
                    column_def,
                    column_position,
                    ..
                } => self.alter_add_column(
                    &origin,
                    key,
                    &column_def,
                    if_not_exists,
                    column_position,
                )?,
                AlterTableOperation::AlterColumn { column_name, op } => {
                    self.alter_column(&origin, key, &column_name, op)?
                }
                other => self.note(&origin, format!("{other} not imported")),
            }
        }
        Ok(())
    }

    fn alter_add_column(
        &mut self,
        origin: &Origin,
        key: TableKey,
        def: &ColumnDef,
        if_not_exists: bool,
        position: Option<MySQLColumnPosition>,
    ) -> Result<(), ParseError> {
        let mut drafts = Vec::new();
        let mut column = self.column_draft(origin, def, &mut drafts);
        if self.find_column(key, &column.name).is_some() {
            if if_not_exists {
                self.note(origin, format!("column {} already exists", column.name));
                return Ok(());
            }
            return Err(ParseError::DuplicateColumn {
                line: origin.line,
                statement: origin.statement.clone(),
                table: self.display_table(key),
                column: column.name,
            });
        }
        if drafts.iter().any(|d| matches!(d, Draft::PrimaryKey { .. })) {
            column.nullable = false;
        }
        let position = match position {
            None => None,
            Some(MySQLColumnPosition::First) => Some(0),
            Some(MySQLColumnPosition::After(after)) => {
                let after = self.ident(&after);
                match self.find_column(key, &after) {
                    Some(index) => Some(index + 1),
                    None => return Err(self.unknown_column(origin, key, &after)),
                }
            }
        };
        self.add_column(key, column, position);
        drafts.sort_by_key(Draft::rank);
        for draft in drafts {
            self.apply(origin, key, draft, false)?;
        }
        Ok(())
    }

    fn alter_column(
        &mut self,
        origin: &Origin,
        key: TableKey,
        column: &Ident,
        op: AlterColumnOperation,
    ) -> Result<(), ParseError> {
        let name = self.ident(column);
        let Some(index) = self.find_column(key, &name) else {
            return Err(self.unknown_column(origin, key, &name));
        };
        let action = match op {
            AlterColumnOperation::SetNotNull => Action::SetNullable { nullable: false },
            AlterColumnOperation::DropNotNull => Action::SetNullable { nullable: true },
            // pg_dump gives serial columns their sequence this way.
            AlterColumnOperation::SetDefault { value } if self.is_nextval(&value) => {
                Action::SetIdentity { identity: true }
            }
            AlterColumnOperation::SetDefault { value } => Action::SetDefault {
                default: Some(value.to_string()),
            },
            AlterColumnOperation::DropDefault => Action::SetDefault { default: None },
            AlterColumnOperation::SetDataType { data_type, .. } => Action::ChangeColumnType {
                data_type: map_type(self.dialect, &data_type).data_type,
            },
            AlterColumnOperation::AddGenerated { .. } => Action::SetIdentity { identity: true },
        };
        let table = &mut self.schemas[key.schema].tables[key.table];
        let column = &mut table.columns[index];
        if let Action::SetNullable { nullable } = action {
            column.nullable = nullable;
        }
        let id = column.id.clone();
        self.push(id, action);
        Ok(())
    }

    fn comment(
        &mut self,
        line: u64,
        summary: &str,
        object_type: CommentObject,
        name: &ObjectName,
        comment: Option<String>,
        if_exists: bool,
    ) -> Result<(), ParseError> {
        let origin = Origin {
            line,
            statement: format!("COMMENT ON {object_type} {name}"),
        };
        let target = match object_type {
            CommentObject::Table => {
                if if_exists && self.try_table(&origin, name)?.is_none() {
                    self.skip(line, format!("{}: no such table", origin.statement));
                    return Ok(());
                }
                let key = self.existing_table(&origin, name)?;
                self.table(key).id.clone()
            }
            CommentObject::Column => {
                let parts = &name.0;
                if parts.len() < 2 {
                    return Err(ParseError::Unsupported {
                        line,
                        statement: origin.statement,
                        reason: "a column comment needs table.column".to_string(),
                    });
                }
                let table_name = ObjectName(parts[..parts.len() - 1].to_vec());
                let column = match parts[parts.len() - 1].as_ident() {
                    Some(ident) => self.ident(ident),
                    None => parts[parts.len() - 1].to_string(),
                };
                if if_exists && self.try_table(&origin, &table_name)?.is_none() {
                    self.skip(line, format!("{}: no such table", origin.statement));
                    return Ok(());
                }
                let key = self.existing_table(&origin, &table_name)?;
                match self.find_column(key, &column) {
                    Some(index) => self.table(key).columns[index].id.clone(),
                    None => return Err(self.unknown_column(&origin, key, &column)),
                }
            }
            CommentObject::Schema => {
                let schema = self.last_ident(name);
                let index = match self.find_schema(&schema) {
                    Some(index) => index,
                    // The default schema exists even when nothing created it
                    // (pg_dump comments on `public` without creating it).
                    None if self.same_name(&schema, &self.current_schema.clone()) => {
                        self.ensure_schema(&schema)
                    }
                    None => {
                        return Err(ParseError::UnknownSchema {
                            line,
                            statement: origin.statement,
                            schema,
                        })
                    }
                };
                self.schemas[index].id.clone()
            }
            _ => {
                self.skip(line, summary.to_string());
                return Ok(());
            }
        };
        self.push(target, Action::SetComment { comment });
        Ok(())
    }

    /// SQL Server keeps comments as `MS_Description` extended properties:
    /// `EXEC sp_addextendedproperty @name = N'MS_Description', @value = …,
    /// @level0type = N'SCHEMA', @level0name = …, @level1type = N'TABLE', …`,
    /// with named or positional arguments.
    fn extended_property(
        &mut self,
        line: u64,
        summary: &str,
        procedure: &ObjectName,
        parameters: &[Expr],
    ) -> Result<(), ParseError> {
        const POSITIONS: [&str; 8] = [
            "@name",
            "@value",
            "@level0type",
            "@level0name",
            "@level1type",
            "@level1name",
            "@level2type",
            "@level2name",
        ];
        let mut args: Vec<(String, Option<String>)> = Vec::new();
        for (i, parameter) in parameters.iter().enumerate() {
            let (key, value) = match parameter {
                Expr::BinaryOp {
                    left,
                    op: BinaryOperator::Eq,
                    right,
                } => match left.as_ref() {
                    Expr::Identifier(ident) => (ident.value.to_ascii_lowercase(), right.as_ref()),
                    _ => continue,
                },
                positional => match POSITIONS.get(i) {
                    Some(key) => (key.to_string(), positional),
                    None => continue,
                },
            };
            let text = match value {
                Expr::Value(v) => v.value.clone().into_string(),
                _ => None,
            };
            args.push((key, text));
        }
        let arg = |key: &str| {
            args.iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, v)| v.clone())
        };
        let is =
            |key: &str, expected: &str| arg(key).is_some_and(|v| v.eq_ignore_ascii_case(expected));
        let describes = arg("@name").is_some_and(|n| n.eq_ignore_ascii_case("MS_Description"));
        let level0 = arg("@level0name").filter(|_| is("@level0type", "SCHEMA"));
        let (Some(schema), true) = (level0, describes) else {
            self.skip(line, summary.to_string());
            return Ok(());
        };
        let level1 = arg("@level1name").filter(|_| is("@level1type", "TABLE"));
        let level2 = arg("@level2name").filter(|_| is("@level2type", "COLUMN"));
        if arg("@level1type").is_some() && level1.is_none()
            || arg("@level2type").is_some() && level2.is_none()
        {
            // A property of a view, procedure, index, …: not in the model.
            self.skip(line, summary.to_string());
            return Ok(());
        }
        let origin = Origin {
            line,
            statement: format!("EXEC {procedure}"),
        };
        let target = match (level1, level2) {
            (None, _) => match self.find_schema(&schema) {
                Some(index) => self.schemas[index].id.clone(),
                None => {
                    return Err(ParseError::UnknownSchema {
                        line,
                        statement: origin.statement,
                        schema,
                    })
                }
            },
            (Some(table), column) => {
                let Some(key) = self.find_table(&schema, &table) else {
                    return Err(ParseError::UnknownTable {
                        line,
                        statement: origin.statement,
                        table: format!("{schema}.{table}"),
                    });
                };
                match column {
                    None => self.table(key).id.clone(),
                    Some(column) => match self.find_column(key, &column) {
                        Some(index) => self.table(key).columns[index].id.clone(),
                        None => return Err(self.unknown_column(&origin, key, &column)),
                    },
                }
            }
        };
        let comment = arg("@value");
        self.push(target, Action::SetComment { comment });
        Ok(())
    }

    // ----- columns and constraints ------------------------------------

    /// Reads a column definition; its inline constraints go to `drafts`.
    fn column_draft(
        &mut self,
        origin: &Origin,
        def: &ColumnDef,
        drafts: &mut Vec<Draft>,
    ) -> ColumnDraft {
        let name = self.ident(&def.name);
        let mapped = map_type(self.dialect, &def.data_type);
        let mut column = ColumnDraft {
            name: name.clone(),
            data_type: mapped.data_type,
            nullable: true,
            default: None,
            comment: None,
            identity: mapped.identity,
        };
        for option in &def.options {
            let constraint_name = option.name.as_ref().map(|n| self.ident(n));
            match &option.option {
                ColumnOption::Null => column.nullable = true,
                ColumnOption::NotNull => column.nullable = false,
                ColumnOption::Default(expr) if self.is_nextval(expr) => column.identity = true,
                ColumnOption::Default(expr) => column.default = Some(expr.to_string()),
                ColumnOption::Comment(text) => column.comment = Some(text.clone()),
                ColumnOption::PrimaryKey(_) => drafts.push(Draft::PrimaryKey {
                    name: constraint_name,
                    columns: vec![name.clone()],
                }),
                ColumnOption::Unique(_) => drafts.push(Draft::Unique {
                    name: constraint_name,
                    columns: vec![name.clone()],
                }),
                ColumnOption::Check(check) => drafts.push(Draft::Check {
                    name: constraint_name,
                    expression: check.expr.clone(),
                }),
                ColumnOption::ForeignKey(fk) => {
                    if fk.characteristics.is_some() || fk.match_kind.is_some() {
                        self.note(
                            origin,
                            format!(
                                "column {name}: MATCH / DEFERRABLE of REFERENCES {} not kept",
                                fk.foreign_table
                            ),
                        );
                    }
                    drafts.push(Draft::ForeignKey {
                        name: constraint_name,
                        columns: vec![name.clone()],
                        references: fk.foreign_table.clone(),
                        ref_columns: fk.referred_columns.iter().map(|c| self.ident(c)).collect(),
                        on_delete: fk_action(fk.on_delete),
                        on_update: fk_action(fk.on_update),
                    })
                }
                ColumnOption::DialectSpecific(tokens) => {
                    let words: Vec<String> = tokens.iter().map(ToString::to_string).collect();
                    match words.join(" ").to_ascii_uppercase().as_str() {
                        // MySQL and SQLite spell auto-increment this way.
                        "AUTO_INCREMENT" | "AUTOINCREMENT" => column.identity = true,
                        // SQLite's `PRIMARY KEY ASC`: order of the rowid key.
                        "ASC" | "DESC" => {}
                        other => self.note(origin, format!("column {name}: {other} not imported")),
                    }
                }
                ColumnOption::Identity(_) => column.identity = true,
                ColumnOption::Generated {
                    generation_expr: None,
                    ..
                } => column.identity = true,
                other => self.note(origin, format!("column {name}: {other} not imported")),
            }
        }
        if column.identity {
            column.nullable = false;
        }
        column
    }

    /// Reads a table-level constraint into `drafts`.
    fn table_constraint(
        &mut self,
        origin: &Origin,
        constraint: &TableConstraint,
        drafts: &mut Vec<Draft>,
    ) -> Result<(), ParseError> {
        match constraint {
            TableConstraint::PrimaryKey(pk) => {
                let columns = self.key_columns(origin, &pk.columns)?;
                drafts.push(Draft::PrimaryKey {
                    name: pk.name.as_ref().map(|n| self.ident(n)),
                    columns,
                });
            }
            TableConstraint::Unique(unique) => {
                if unique.nulls_distinct == NullsDistinctOption::NotDistinct {
                    self.note(origin, "NULLS NOT DISTINCT not kept".to_string());
                }
                let columns = self.key_columns(origin, &unique.columns)?;
                // MySQL's `UNIQUE KEY name (…)` names the index, not a constraint.
                let name = unique.name.as_ref().or(unique.index_name.as_ref());
                drafts.push(Draft::Unique {
                    name: name.map(|n| self.ident(n)),
                    columns,
                });
            }
            TableConstraint::Check(check) => drafts.push(Draft::Check {
                name: check.name.as_ref().map(|n| self.ident(n)),
                expression: check.expr.clone(),
            }),
            TableConstraint::ForeignKey(fk) => {
                if fk.characteristics.is_some() || fk.match_kind.is_some() {
                    self.note(
                        origin,
                        format!(
                            "MATCH / DEFERRABLE of FOREIGN KEY to {} not kept",
                            fk.foreign_table
                        ),
                    );
                }
                drafts.push(Draft::ForeignKey {
                    name: fk.name.as_ref().map(|n| self.ident(n)),
                    columns: fk.columns.iter().map(|c| self.ident(c)).collect(),
                    references: fk.foreign_table.clone(),
                    ref_columns: fk.referred_columns.iter().map(|c| self.ident(c)).collect(),
                    on_delete: fk_action(fk.on_delete),
                    on_update: fk_action(fk.on_update),
                });
            }
            TableConstraint::Index(index) => drafts.push(Draft::Index {
                name: index.name.as_ref().map(|n| self.ident(n)),
                columns: index.columns.clone(),
            }),
            other => self.note(origin, format!("{other} not imported")),
        }
        Ok(())
    }

    /// Column names of a key. MySQL prefix lengths (`name(20)`) keep the
    /// column and drop the length; other expressions cannot be keys here.
    fn key_columns(
        &mut self,
        origin: &Origin,
        columns: &[IndexColumn],
    ) -> Result<Vec<String>, ParseError> {
        let mut names = Vec::new();
        for column in columns {
            match &column.column.expr {
                Expr::Identifier(ident) => names.push(self.ident(ident)),
                Expr::Function(f)
                    if self.dialect == SourceDialect::Mysql && f.name.0.len() == 1 =>
                {
                    let name = self.last_ident(&f.name);
                    self.note(
                        origin,
                        format!("prefix length of key column {column} not kept"),
                    );
                    names.push(name);
                }
                _ => {
                    return Err(ParseError::Unsupported {
                        line: origin.line,
                        statement: origin.statement.clone(),
                        reason: format!("key column {column} is not a plain column"),
                    })
                }
            }
        }
        Ok(names)
    }

    /// Resolves a draft against the table and emits its op (foreign keys
    /// wait for [`Importer::finish`]). `in_create` says the table is being
    /// created by this statement, whose columns already carry NOT NULL.
    fn apply(
        &mut self,
        origin: &Origin,
        key: TableKey,
        draft: Draft,
        in_create: bool,
    ) -> Result<(), ParseError> {
        let table_name = self.table(key).name.clone();
        let table_id = self.table(key).id.clone();
        match draft {
            Draft::PrimaryKey { name, columns } => {
                let columns = self.resolve_columns(origin, key, &columns)?;
                if self.table(key).primary_key.is_some() {
                    return Err(ParseError::DuplicatePrimaryKey {
                        line: origin.line,
                        statement: origin.statement.clone(),
                        table: self.display_table(key),
                    });
                }
                if !in_create {
                    for column in &columns {
                        let index = self.find_column(key, column).expect("resolved above");
                        let info = &mut self.schemas[key.schema].tables[key.table].columns[index];
                        if info.nullable {
                            info.nullable = false;
                            let id = info.id.clone();
                            self.push(id, Action::SetNullable { nullable: false });
                        }
                    }
                }
                let name = self.choose_name(key.schema, name, &table_name, None, "pkey");
                self.schemas[key.schema].tables[key.table].primary_key = Some(columns.clone());
                let id = self.new_id("pk");
                self.push(
                    table_id,
                    Action::AddPrimaryKey {
                        id,
                        name: Some(name),
                        columns,
                    },
                );
            }
            Draft::Unique { name, columns } => {
                let columns = self.resolve_columns(origin, key, &columns)?;
                let joined = columns.join("_");
                let name = self.choose_name(key.schema, name, &table_name, Some(&joined), "key");
                let id = self.new_id("uq");
                self.push(table_id, Action::AddUnique { id, name, columns });
            }
            Draft::Check { name, expression } => {
                let column = self.single_column_of(key, &expression);
                let name =
                    self.choose_name(key.schema, name, &table_name, column.as_deref(), "check");
                let id = self.new_id("ck");
                self.push(
                    table_id,
                    Action::AddCheck {
                        id,
                        name,
                        expression: expression.to_string(),
                    },
                );
            }
            Draft::Index { name, columns } => {
                self.add_index(origin, key, name, &columns, false)?;
            }
            Draft::ForeignKey {
                name,
                columns,
                references,
                ref_columns,
                on_delete,
                on_update,
            } => {
                let columns = self.resolve_columns(origin, key, &columns)?;
                let (ref_schema, ref_table) = self.qualified(origin, &references)?;
                let joined = columns.join("_");
                let name = self.choose_name(key.schema, name, &table_name, Some(&joined), "fkey");
                self.pending_fks.push(PendingFk {
                    origin: origin.clone(),
                    table: key,
                    name,
                    columns,
                    ref_schema,
                    ref_table,
                    ref_columns,
                    on_delete,
                    on_update,
                });
            }
        }
        Ok(())
    }

    fn add_index(
        &mut self,
        origin: &Origin,
        key: TableKey,
        name: Option<String>,
        columns: &[IndexColumn],
        unique: bool,
    ) -> Result<(), ParseError> {
        let mut parts = Vec::new();
        let mut name_parts = Vec::new();
        for column in columns {
            // `ASC` is the default order, so it does not make a column special.
            let plain = column.operator_class.is_none()
                && matches!(column.column.options.sort, None | Some(OrderBySort::Asc))
                && column.column.options.nulls_first.is_none();
            match &column.column.expr {
                Expr::Identifier(ident) => {
                    let written = self.ident(ident);
                    let Some(index) = self.find_column(key, &written) else {
                        return Err(self.unknown_column(origin, key, &written));
                    };
                    let name = self.table(key).columns[index].name.clone();
                    name_parts.push(name.clone());
                    // Sort order and operator class have no field of their
                    // own, so such a column is kept as written.
                    parts.push(if plain { name } else { column.to_string() });
                }
                expr => {
                    // PostgreSQL names an expression column after its
                    // function, or `expr`.
                    name_parts.push(match expr {
                        Expr::Function(f) => self.last_ident(&f.name),
                        _ => "expr".to_string(),
                    });
                    parts.push(column.to_string());
                }
            }
        }
        if let Some(name) = &name {
            if self
                .table(key)
                .indexes
                .iter()
                .any(|i| self.same_name(i, name))
            {
                return Err(ParseError::DuplicateIndex {
                    line: origin.line,
                    statement: origin.statement.clone(),
                    table: self.display_table(key),
                    index: name.clone(),
                });
            }
        }
        let table_name = self.table(key).name.clone();
        let joined = name_parts.join("_");
        let name = self.choose_name(key.schema, name, &table_name, Some(&joined), "idx");
        self.schemas[key.schema].tables[key.table]
            .indexes
            .push(name.clone());
        let id = self.new_id("idx");
        let table_id = self.table(key).id.clone();
        self.push(
            table_id,
            Action::AddIndex {
                id,
                name,
                columns: parts,
                unique,
            },
        );
        Ok(())
    }

    /// Maps written column names to the table's own spelling.
    fn resolve_columns(
        &self,
        origin: &Origin,
        key: TableKey,
        columns: &[String],
    ) -> Result<Vec<String>, ParseError> {
        columns
            .iter()
            .map(|c| match self.find_column(key, c) {
                Some(index) => Ok(self.table(key).columns[index].name.clone()),
                None => Err(self.unknown_column(origin, key, c)),
            })
            .collect()
    }

    /// The one column a check expression mentions, if it mentions exactly
    /// one: PostgreSQL then names the check `{table}_{column}_check`.
    fn single_column_of(&self, key: TableKey, expression: &Expr) -> Option<String> {
        let text = expression.to_string();
        let dialect = parser_dialect(self.dialect);
        let tokens = Tokenizer::new(dialect.as_ref(), &text).tokenize().ok()?;
        let mut found: Vec<String> = Vec::new();
        for token in tokens {
            if let Token::Word(word) = token {
                let ident = Ident {
                    value: word.value,
                    quote_style: word.quote_style,
                    span: sqlparser::tokenizer::Span::empty(),
                };
                let name = self.ident(&ident);
                if let Some(index) = self.find_column(key, &name) {
                    let column = self.table(key).columns[index].name.clone();
                    if !found.contains(&column) {
                        found.push(column);
                    }
                }
            }
        }
        match found.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        }
    }

    fn is_nextval(&self, expr: &Expr) -> bool {
        self.dialect == SourceDialect::Postgres
            && matches!(expr, Expr::Function(f)
                if f.name.0.last().and_then(|p| p.as_ident()).is_some_and(|i| i.value.eq_ignore_ascii_case("nextval")))
    }

    // ----- the picture ------------------------------------------------

    fn add_schema(&mut self, name: &str, implicit: bool) -> usize {
        let catalog = self.ensure_catalog();
        let id = self.new_id("sch");
        self.push(
            catalog,
            Action::AddSchema {
                id: id.clone(),
                name: name.to_string(),
            },
        );
        self.schemas.push(SchemaInfo {
            id,
            name: name.to_string(),
            implicit,
            tables: Vec::new(),
            names: Namespace::default(),
        });
        self.schemas.len() - 1
    }

    fn ensure_catalog(&mut self) -> ObjectId {
        if let Some(id) = &self.catalog_id {
            return id.clone();
        }
        let id = self.new_id("cat");
        self.push(
            ObjectId::root(),
            Action::AddCatalog {
                id: id.clone(),
                name: self.catalog_name.clone(),
            },
        );
        self.catalog_id = Some(id.clone());
        id
    }

    fn ensure_schema(&mut self, name: &str) -> usize {
        match self.find_schema(name) {
            Some(index) => index,
            None => self.add_schema(name, true),
        }
    }

    fn add_table(&mut self, schema: usize, name: &str) -> TableKey {
        let id = self.new_id("tbl");
        let schema_id = self.schemas[schema].id.clone();
        self.push(
            schema_id,
            Action::AddTable {
                id: id.clone(),
                name: name.to_string(),
            },
        );
        let info = &mut self.schemas[schema];
        info.names.take(name);
        info.tables.push(TableInfo {
            id,
            name: name.to_string(),
            columns: Vec::new(),
            primary_key: None,
            indexes: Vec::new(),
        });
        TableKey {
            schema,
            table: info.tables.len() - 1,
        }
    }

    fn add_column(&mut self, key: TableKey, column: ColumnDraft, position: Option<usize>) {
        let id = self.new_id("col");
        let info = ColumnInfo {
            id: id.clone(),
            name: column.name.clone(),
            nullable: column.nullable,
        };
        let columns = &mut self.schemas[key.schema].tables[key.table].columns;
        match position {
            Some(p) if p < columns.len() => columns.insert(p, info),
            _ => columns.push(info),
        }
        let table_id = self.table(key).id.clone();
        self.push(
            table_id,
            Action::AddColumn {
                id,
                name: column.name,
                data_type: column.data_type,
                nullable: column.nullable,
                default: column.default,
                comment: column.comment,
                identity: column.identity,
                position,
            },
        );
    }

    /// The given name (taken in the schema) or PostgreSQL's default one.
    fn choose_name(
        &mut self,
        schema: usize,
        given: Option<String>,
        table: &str,
        columns: Option<&str>,
        label: &str,
    ) -> String {
        let names = &mut self.schemas[schema].names;
        match given {
            Some(name) => {
                names.take(&name);
                name
            }
            None => names.choose(table, columns, label),
        }
    }

    fn find_schema(&self, name: &str) -> Option<usize> {
        self.schemas
            .iter()
            .position(|s| self.same_name(&s.name, name))
    }

    fn find_table(&self, schema: &str, table: &str) -> Option<TableKey> {
        let s = self.find_schema(schema)?;
        let t = self.schemas[s]
            .tables
            .iter()
            .position(|t| self.same_name(&t.name, table))?;
        Some(TableKey {
            schema: s,
            table: t,
        })
    }

    fn find_column(&self, key: TableKey, name: &str) -> Option<usize> {
        self.table(key)
            .columns
            .iter()
            .position(|c| self.same_name(&c.name, name))
    }

    fn table(&self, key: TableKey) -> &TableInfo {
        &self.schemas[key.schema].tables[key.table]
    }

    fn display_table(&self, key: TableKey) -> String {
        format!("{}.{}", self.schemas[key.schema].name, self.table(key).name)
    }

    /// A table that must exist, or the error that says it does not.
    fn existing_table(&self, origin: &Origin, name: &ObjectName) -> Result<TableKey, ParseError> {
        let (schema, table) = self.qualified(origin, name)?;
        self.find_table(&schema, &table)
            .ok_or_else(|| ParseError::UnknownTable {
                line: origin.line,
                statement: origin.statement.clone(),
                table: format!("{schema}.{table}"),
            })
    }

    fn try_table(
        &self,
        origin: &Origin,
        name: &ObjectName,
    ) -> Result<Option<TableKey>, ParseError> {
        let (schema, table) = self.qualified(origin, name)?;
        Ok(self.find_table(&schema, &table))
    }

    fn unknown_column(&self, origin: &Origin, key: TableKey, column: &str) -> ParseError {
        ParseError::UnknownColumn {
            line: origin.line,
            statement: origin.statement.clone(),
            table: self.display_table(key),
            column: column.to_string(),
        }
    }

    // ----- names ------------------------------------------------------

    /// An identifier as the database stores it: PostgreSQL folds unquoted
    /// names to lower case (ASCII only, as it does for UTF-8 databases); the
    /// others keep the spelling and compare without case.
    fn ident(&self, ident: &Ident) -> String {
        if self.dialect == SourceDialect::Postgres && ident.quote_style.is_none() {
            ident.value.to_ascii_lowercase()
        } else {
            ident.value.clone()
        }
    }

    fn last_ident(&self, name: &ObjectName) -> String {
        match name.0.last().and_then(|p| p.as_ident()) {
            Some(ident) => self.ident(ident),
            None => name.to_string(),
        }
    }

    fn same_name(&self, a: &str, b: &str) -> bool {
        if self.dialect == SourceDialect::Postgres {
            a == b
        } else {
            a == b || a.to_lowercase() == b.to_lowercase()
        }
    }

    /// `(schema, table)` of a table name, the schema defaulting to the
    /// current one. A catalog part must name the catalog being imported.
    fn qualified(
        &self,
        origin: &Origin,
        name: &ObjectName,
    ) -> Result<(String, String), ParseError> {
        let mut parts = Vec::new();
        for part in &name.0 {
            match part.as_ident() {
                Some(ident) => parts.push(self.ident(ident)),
                None => {
                    return Err(ParseError::Unsupported {
                        line: origin.line,
                        statement: origin.statement.clone(),
                        reason: format!("{name} is not a plain table name"),
                    })
                }
            }
        }
        match parts.as_slice() {
            [table] => Ok((self.current_schema.clone(), table.clone())),
            [schema, table] => Ok((schema.clone(), table.clone())),
            [catalog, schema, table] if self.same_name(catalog, &self.catalog_name) => {
                Ok((schema.clone(), table.clone()))
            }
            [catalog, _, _] => Err(ParseError::Unsupported {
                line: origin.line,
                statement: origin.statement.clone(),
                reason: format!(
                    "{name} is in catalog {catalog}, but the import goes into catalog {}",
                    self.catalog_name
                ),
            }),
            _ => Err(ParseError::Unsupported {
                line: origin.line,
                statement: origin.statement.clone(),
                reason: format!("{name} has too many name parts"),
            }),
        }
    }

    // ----- output -----------------------------------------------------

    fn new_id(&mut self, kind: &str) -> ObjectId {
        (self.ctx.new_id)(kind)
    }

    fn push(&mut self, target: ObjectId, action: Action) {
        self.ops.push(ImportedOp { target, action });
    }

    fn skip(&mut self, line: u64, what: String) {
        self.skipped.push(format!("line {line}: {what}"));
    }

    /// Records a clause of an imported statement that the model cannot hold.
    fn note(&mut self, origin: &Origin, what: String) {
        self.skipped.push(format!(
            "line {}: {}: {what}",
            origin.line, origin.statement
        ));
    }
}

fn fk_action(action: Option<ReferentialAction>) -> FkAction {
    match action {
        None | Some(ReferentialAction::NoAction) => FkAction::NoAction,
        Some(ReferentialAction::Restrict) => FkAction::Restrict,
        Some(ReferentialAction::Cascade) => FkAction::Cascade,
        Some(ReferentialAction::SetNull) => FkAction::SetNull,
        Some(ReferentialAction::SetDefault) => FkAction::SetDefault,
    }
}

/// MySQL's `COMMENT = '…'` table option.
fn table_comment(options: &CreateTableOptions) -> Option<&CommentDef> {
    let options = match options {
        CreateTableOptions::None => return None,
        CreateTableOptions::With(o)
        | CreateTableOptions::Options(o)
        | CreateTableOptions::Plain(o)
        | CreateTableOptions::TableProperties(o) => o,
    };
    options.iter().find_map(|o| match o {
        SqlOption::Comment(comment) => Some(comment),
        _ => None,
    })
}
