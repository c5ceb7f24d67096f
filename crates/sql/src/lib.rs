//! Tidemark's SQL dialects: quoting, type mapping, normalization, migration
//! planning, and DDL import.
//!
//! **Architecture invariant**: this crate is pure. It does no IO and talks to
//! no database; it turns model values into SQL text (and SQL text into model
//! ops) and nothing else.
//!
//! - [`dialect`]: one [`Dialect`] per database (PostgreSQL, MySQL/MariaDB,
//!   SQLite, SQL Server, Databricks) and [`dialect()`] to get one by kind.
//! - [`Dialect::normalize`]: the form of a state a database would report back,
//!   so comparisons show only real differences.
//! - [`plan()`] / [`plan_changes`]: ordered, rendered migrations whose
//!   statements carry the breaking-change verdict of their change.

pub mod context;
pub mod describe;
pub mod dialect;
pub mod error;
pub(crate) mod expr;
pub mod names;
pub(crate) mod normalize;
pub mod parse;
pub mod plan;

pub use context::RenderContext;
pub use describe::describe;
pub use dialect::{dialect, Dialect, DialectKind, RenderedStatement, Rendering};
pub use error::SqlError;
pub use plan::{plan, plan_changes, Plan, PlanNote, PlannedStatement};
