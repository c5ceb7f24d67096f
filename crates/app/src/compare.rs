//! Comparing two snapshots as SQL: the migration plan for a dialect, and a
//! side-by-side text diff of the two snapshots' full DDL.

use crate::{App, AppError, AppResult, DiffReport, SnapshotRef};
use serde::Serialize;
use similar::{ChangeTag, TextDiff};
use tidemark_model::{Facts, State};
use tidemark_sql::{plan, DialectKind, Plan};

/// One row of a side-by-side text diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct DiffLine {
    /// `equal`, `delete` (only on the left) or `insert` (only on the right).
    pub tag: String,
    /// 1-based line number on the left, if the line is there.
    pub old_line: Option<usize>,
    /// 1-based line number on the right, if the line is there.
    pub new_line: Option<usize>,
    /// The line's text, without its newline.
    pub text: String,
}

/// Everything the compare view shows for two snapshots and one dialect.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct Comparison {
    /// The structured change list.
    pub diff: DiffReport,
    /// The migration plan from → to in the dialect.
    pub plan: Plan,
    /// The plan as a script with its flags as comments.
    pub script: String,
    /// The full DDL of the from side.
    pub ddl_from: String,
    /// The full DDL of the to side.
    pub ddl_to: String,
    /// Line diff of the two DDL texts.
    pub text_diff: Vec<DiffLine>,
}

/// Parses a dialect name as every front end accepts it.
pub fn parse_dialect(name: &str) -> AppResult<DialectKind> {
    name.parse::<DialectKind>()
        .map_err(|e| AppError::BadInput(e.to_string()))
}

/// The whole state as a CREATE script: the plan from the same catalogs and
/// schemas with no tables (a plan runs inside one database, so it cannot
/// create the catalog itself).
fn ddl(kind: DialectKind, state: &State) -> AppResult<String> {
    let mut empty = state.clone();
    for schema in empty.catalogs.iter_mut().flat_map(|c| c.schemas.iter_mut()) {
        schema.tables.clear();
    }
    let p = plan(kind, &empty, state, &Facts::default())
        .map_err(|e| AppError::BadInput(e.to_string()))?;
    Ok(p.statements
        .iter()
        .map(|s| format!("{};\n", s.sql.trim_end_matches(';')))
        .collect())
}

/// Line-by-line diff with line numbers, for a side-by-side view.
pub fn text_diff(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = TextDiff::from_lines(old, new);
    diff.iter_all_changes()
        .map(|c| DiffLine {
            tag: match c.tag() {
                ChangeTag::Equal => "equal",
                ChangeTag::Delete => "delete",
                ChangeTag::Insert => "insert",
            }
            .to_string(),
            old_line: c.old_index().map(|i| i + 1),
            new_line: c.new_index().map(|i| i + 1),
            text: c.value().trim_end_matches('\n').to_string(),
        })
        .collect()
}

impl App {
    /// The migration plan between two snapshots (or the working state) in a dialect.
    pub fn plan_between(
        &self,
        from: &SnapshotRef,
        to: &SnapshotRef,
        dialect: DialectKind,
    ) -> AppResult<Plan> {
        let a = self.state_of(from)?;
        let b = self.state_of(to)?;
        plan(dialect, &a, &b, &Facts::default()).map_err(|e| AppError::BadInput(e.to_string()))
    }

    /// The compare view: changes, plan, script and a DDL text diff.
    pub fn compare(
        &self,
        from: &SnapshotRef,
        to: &SnapshotRef,
        dialect: DialectKind,
    ) -> AppResult<Comparison> {
        let a = self.state_of(from)?;
        let b = self.state_of(to)?;
        let plan = plan(dialect, &a, &b, &Facts::default())
            .map_err(|e| AppError::BadInput(e.to_string()))?;
        let ddl_from = ddl(dialect, &a)?;
        let ddl_to = ddl(dialect, &b)?;
        Ok(Comparison {
            diff: self.diff(from, to)?,
            script: plan.to_sql_script(),
            text_diff: text_diff(&ddl_from, &ddl_to),
            plan,
            ddl_from,
            ddl_to,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::text_diff;

    #[test]
    fn text_diff_numbers_both_sides() {
        let d = text_diff("a\nb\nc\n", "a\nB\nc\nd\n");
        let tags: Vec<_> = d
            .iter()
            .map(|l| (l.tag.as_str(), l.old_line, l.new_line))
            .collect();
        assert_eq!(
            tags,
            [
                ("equal", Some(1), Some(1)),
                ("delete", Some(2), None),
                ("insert", None, Some(2)),
                ("equal", Some(3), Some(3)),
                ("insert", None, Some(4)),
            ]
        );
    }
}
