//! Helpers every dialect module shares.

use super::{Dialect, DialectKind};
use crate::describe::describe;
use crate::error::SqlError;
use tidemark_model::{Change, FkAction, ForeignKey, QualifiedName, Table};

/// Wraps a name in `open` … `close`, doubling `close` inside, which is how
/// every dialect escapes its identifier quote.
pub(crate) fn quote_with(name: &str, open: char, close: char) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push(open);
    for c in name.chars() {
        if c == close {
            out.push(close);
        }
        out.push(c);
    }
    out.push(close);
    out
}

/// A dialect's identifier quoting, by kind.
pub(crate) fn quote_ident_for(kind: DialectKind, name: &str) -> String {
    match kind {
        DialectKind::Postgres | DialectKind::Sqlite => quote_with(name, '"', '"'),
        DialectKind::Mysql | DialectKind::Databricks => quote_with(name, '`', '`'),
        DialectKind::SqlServer => quote_with(name, '[', ']'),
    }
}

/// `'…'` with quotes doubled (and backslashes doubled where a backslash escapes).
pub(crate) fn quote_string(value: &str, backslash: bool) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' if backslash => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The error for a change a dialect has no statement for.
pub(crate) fn unsupported(
    kind: DialectKind,
    change: &Change,
    reason: impl Into<String>,
) -> SqlError {
    SqlError::Unsupported {
        dialect: kind,
        change: describe(change),
        reason: reason.into(),
    }
}

/// `"a", "b"`.
pub(crate) fn column_list<D: Dialect + ?Sized>(d: &D, columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| d.quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An index entry: a column of the table is quoted, anything else is an
/// expression (or `col DESC`) and is written as given.
pub(crate) fn index_entry<D: Dialect + ?Sized>(
    d: &D,
    table: Option<&Table>,
    entry: &str,
) -> String {
    let is_column = match table {
        Some(t) => t.columns.iter().any(|c| c.name == entry),
        None => !entry.contains(|c: char| c.is_whitespace() || "()'\"`[]".contains(c)),
    };
    if is_column {
        d.quote_ident(entry)
    } else {
        entry.to_string()
    }
}

/// The entries of an index, comma separated.
pub(crate) fn index_entries<D: Dialect + ?Sized>(
    d: &D,
    table: Option<&Table>,
    entries: &[String],
) -> String {
    entries
        .iter()
        .map(|e| index_entry(d, table, e))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether an expression mentions a name as a whole word, quoted or not,
/// ignoring case (a false positive only costs a redundant statement).
pub(crate) fn mentions(kind: DialectKind, expression: &str, name: &str) -> bool {
    crate::expr::tokenize(kind, expression).is_some_and(|toks| {
        toks.iter().any(|t| match t {
            crate::expr::Tok::Word(w) | crate::expr::Tok::Ident(w) => w.eq_ignore_ascii_case(name),
            _ => false,
        })
    })
}

/// The SQL words of a referential action.
pub(crate) fn fk_action(action: FkAction) -> &'static str {
    match action {
        FkAction::NoAction => "NO ACTION",
        FkAction::Restrict => "RESTRICT",
        FkAction::Cascade => "CASCADE",
        FkAction::SetNull => "SET NULL",
        FkAction::SetDefault => "SET DEFAULT",
    }
}

/// The referenced table of a key, in the catalog of the referencing table.
pub(crate) fn referenced_table(table: &QualifiedName, fk: &ForeignKey) -> QualifiedName {
    QualifiedName {
        catalog: table.catalog.clone(),
        schema: fk.references.schema.clone(),
        name: fk.references.table.clone(),
    }
}

/// `FOREIGN KEY (…) REFERENCES t (…) [ON DELETE …] [ON UPDATE …]`; `NO ACTION`
/// is the default everywhere and is left out.
pub(crate) fn fk_body<D: Dialect + ?Sized>(d: &D, fk: &ForeignKey, referenced: &str) -> String {
    let mut sql = format!(
        "FOREIGN KEY ({}) REFERENCES {referenced} ({})",
        column_list(d, &fk.columns),
        column_list(d, &fk.ref_columns)
    );
    if fk.on_delete != FkAction::NoAction {
        sql.push_str(" ON DELETE ");
        sql.push_str(fk_action(fk.on_delete));
    }
    if fk.on_update != FkAction::NoAction {
        sql.push_str(" ON UPDATE ");
        sql.push_str(fk_action(fk.on_update));
    }
    sql
}

/// Whether a default is a constant the database accepts without
/// parentheses (MySQL and SQLite want other expressions in parentheses).
pub(crate) fn is_plain_default(kind: DialectKind, expr: &str) -> bool {
    use crate::expr::{tokenize, Tok};
    let Some(toks) = tokenize(kind, expr) else {
        return false;
    };
    let word = |t: &Tok, words: &[&str]| matches!(t, Tok::Word(w) if words.contains(&w.to_ascii_lowercase().as_str()));
    const CONSTANTS: [&str; 6] = [
        "null",
        "true",
        "false",
        "current_timestamp",
        "current_date",
        "current_time",
    ];
    match toks.as_slice() {
        [Tok::Str(_) | Tok::Num(_)] => true,
        [t] => word(t, &CONSTANTS),
        [Tok::Op(op), Tok::Num(_)] => op == "-" || op == "+",
        // CURRENT_TIMESTAMP(6)
        [t, Tok::LParen, Tok::Num(_), Tok::RParen] => word(t, &CONSTANTS[3..]),
        [t, Tok::LParen, Tok::RParen] => word(t, &CONSTANTS[3..]),
        _ => false,
    }
}

/// `DEFAULT x`, with parentheses around anything but a plain constant.
pub(crate) fn default_wrapped(kind: DialectKind, expr: &str) -> String {
    if is_plain_default(kind, expr) {
        expr.to_string()
    } else {
        format!("({expr})")
    }
}

/// Moves that turn one column order into another when each move places a
/// column right after a given one (`None`: first). Only columns present in
/// both lists take part.
pub(crate) fn reorder_moves(from: &[String], to: &[String]) -> Vec<(String, Option<String>)> {
    let target: Vec<&String> = to.iter().filter(|c| from.contains(c)).collect();
    let mut current: Vec<&String> = from.iter().filter(|c| to.contains(c)).collect();
    let mut moves = Vec::new();
    for (i, &name) in target.iter().enumerate() {
        if current[i] != name {
            let at = current.iter().position(|c| *c == name).unwrap_or(i);
            let moved = current.remove(at);
            current.insert(i, moved);
            let after = (i > 0).then(|| target[i - 1].clone());
            moves.push((name.clone(), after));
        }
    }
    moves
}

/// A native type split for matching: lower-case base name (inner whitespace
/// collapsed), the parenthesised arguments, and the words after them.
pub(crate) struct TypeText {
    pub base: String,
    pub args: Vec<String>,
    pub suffix: String,
}

impl TypeText {
    pub(crate) fn parse(text: &str) -> TypeText {
        let lower = text.trim().to_lowercase();
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        match lower.find('(') {
            Some(open) => {
                let close = lower[open..].find(')').map_or(lower.len(), |c| open + c);
                let args = lower[open + 1..close]
                    .split(',')
                    .map(|a| a.trim().to_string())
                    .collect();
                TypeText {
                    base: words(&lower[..open]),
                    args,
                    suffix: words(lower.get(close + 1..).unwrap_or("")),
                }
            }
            None => TypeText {
                base: words(&lower),
                args: Vec::new(),
                suffix: String::new(),
            },
        }
    }

    /// The numeric arguments, if every argument is a number.
    pub(crate) fn numbers(&self) -> Option<Vec<u32>> {
        self.args.iter().map(|a| a.parse().ok()).collect()
    }

    /// The single numeric argument, if that is what there is.
    pub(crate) fn one(&self) -> Option<u32> {
        match self.numbers()?.as_slice() {
            [n] => Some(*n),
            _ => None,
        }
    }
}

/// The precision and scale of a decimal type's arguments.
pub(crate) fn decimal_args(t: &TypeText) -> Option<(Option<u32>, Option<u32>)> {
    match t.numbers()?.as_slice() {
        [] => Some((None, None)),
        // A precision alone means scale 0 in every dialect.
        [p] => Some((Some(*p), Some(0))),
        [p, s] => Some((Some(*p), Some(*s))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn apply(from: &[&str], moves: &[(String, Option<String>)]) -> Vec<String> {
        let mut cols = names(from);
        for (name, after) in moves {
            let at = cols.iter().position(|c| c == name).unwrap();
            let moved = cols.remove(at);
            let to = match after {
                Some(a) => cols.iter().position(|c| c == a).unwrap() + 1,
                None => 0,
            };
            cols.insert(to, moved);
        }
        cols
    }

    #[test]
    fn reorder_moves_reach_the_target_order() {
        for (from, to) in [
            (vec!["a", "b", "c", "d"], vec!["d", "c", "b", "a"]),
            (vec!["a", "b", "c"], vec!["a", "c", "b"]),
            (vec!["a", "b", "c"], vec!["a", "b", "c"]),
            (
                vec!["id", "x", "y", "status"],
                vec!["id", "status", "x", "y"],
            ),
        ] {
            let moves = reorder_moves(&names(&from), &names(&to));
            assert_eq!(apply(&from, &moves), names(&to), "{moves:?}");
            assert!(moves.len() < from.len().max(1));
        }
        // Moving one column is one move.
        let moves = reorder_moves(
            &names(&["id", "x", "y", "status"]),
            &names(&["id", "status", "x", "y"]),
        );
        assert_eq!(moves, [("status".to_string(), Some("id".to_string()))]);
    }

    #[test]
    fn plain_defaults_need_no_parentheses() {
        let k = DialectKind::Mysql;
        for d in [
            "0",
            "-1",
            "'x'",
            "NULL",
            "CURRENT_TIMESTAMP",
            "current_timestamp(6)",
            "TRUE",
        ] {
            assert!(is_plain_default(k, d), "{d}");
        }
        for d in ["uuid()", "1 + 1", "concat('a', 'b')"] {
            assert!(!is_plain_default(k, d), "{d}");
            assert_eq!(default_wrapped(k, d), format!("({d})"));
        }
    }
}
