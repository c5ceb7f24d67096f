//! Just enough SQL expression lexing to compare the defaults and checks people
//! write with the spelling databases report back (`0` vs `((0))`,
//! `'a'::text` vs `'a'`, `[price]>=(0)` vs `price >= 0`).
//!
//! The canonical form is still valid SQL in the same dialect, so a
//! normalized state can be rendered; it is not meant to be pretty.

use crate::dialect::common::quote_ident_for;
use crate::dialect::DialectKind;

/// One lexical token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A string literal as written, prefix (`N`, `b`, `x`, `E`) and quotes included.
    Str(String),
    /// A quoted identifier, unescaped.
    Ident(String),
    /// A bare word: keyword, function or column name.
    Word(String),
    /// A number.
    Num(String),
    /// An operator.
    Op(String),
    /// `(`.
    LParen,
    /// `)`.
    RParen,
    /// `,`.
    Comma,
    /// `.`.
    Dot,
}

fn ident_quotes(kind: DialectKind) -> &'static [(char, char)] {
    match kind {
        DialectKind::Postgres => &[('"', '"')],
        DialectKind::Mysql | DialectKind::Databricks => &[('`', '`')],
        DialectKind::Sqlite => &[('"', '"'), ('`', '`'), ('[', ']')],
        DialectKind::SqlServer => &[('"', '"'), ('[', ']')],
    }
}

fn string_quotes(kind: DialectKind) -> &'static [char] {
    match kind {
        // Both read "..." as a string, not as a name, by default.
        DialectKind::Mysql | DialectKind::Databricks => &['\'', '"'],
        _ => &['\''],
    }
}

fn backslash_escapes(kind: DialectKind) -> bool {
    matches!(kind, DialectKind::Mysql | DialectKind::Databricks)
}

const OPERATORS: [&str; 12] = [
    "->>", "::", "<=", ">=", "<>", "!=", "==", "||", "->", "=>", "<<", ">>",
];

/// Splits SQL text into tokens; `None` when a literal or name is left open.
pub(crate) fn tokenize(kind: DialectKind, text: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let end = (i + 2..chars.len().saturating_sub(1))
                .find(|&j| chars[j] == '*' && chars[j + 1] == '/')?;
            i = end + 2;
        } else if matches!(c, 'n' | 'N' | 'b' | 'B' | 'x' | 'X' | 'e' | 'E') && next == Some('\'') {
            let (lit, end) = read_string(&chars, i + 1, kind)?;
            out.push(Tok::Str(format!("{}{lit}", c.to_ascii_lowercase())));
            i = end;
        } else if string_quotes(kind).contains(&c) {
            let (lit, end) = read_string(&chars, i, kind)?;
            out.push(Tok::Str(lit));
            i = end;
        } else if let Some(&(_, close)) = ident_quotes(kind).iter().find(|(open, _)| *open == c) {
            let mut name = String::new();
            let mut j = i + 1;
            loop {
                let ch = *chars.get(j)?;
                if ch == close {
                    if chars.get(j + 1) == Some(&close) {
                        name.push(close);
                        j += 2;
                        continue;
                    }
                    break;
                }
                name.push(ch);
                j += 1;
            }
            out.push(Tok::Ident(name));
            i = j + 1;
        } else if c.is_ascii_digit() || (c == '.' && next.is_some_and(|n| n.is_ascii_digit())) {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            if j < chars.len() && matches!(chars[j], 'e' | 'E') {
                let mut k = j + 1;
                if k < chars.len() && matches!(chars[k], '+' | '-') {
                    k += 1;
                }
                if k < chars.len() && chars[k].is_ascii_digit() {
                    j = k;
                    while j < chars.len() && chars[j].is_ascii_digit() {
                        j += 1;
                    }
                }
            }
            out.push(Tok::Num(chars[i..j].iter().collect()));
            i = j;
        } else if c.is_alphanumeric() || matches!(c, '_' | '@' | '$' | '#') {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_alphanumeric() || matches!(chars[j], '_' | '@' | '$' | '#'))
            {
                j += 1;
            }
            out.push(Tok::Word(chars[i..j].iter().collect()));
            i = j;
        } else if c == '(' {
            out.push(Tok::LParen);
            i += 1;
        } else if c == ')' {
            out.push(Tok::RParen);
            i += 1;
        } else if c == ',' {
            out.push(Tok::Comma);
            i += 1;
        } else if c == '.' {
            out.push(Tok::Dot);
            i += 1;
        } else {
            let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
            let op = OPERATORS
                .iter()
                .find(|op| rest.starts_with(**op))
                .map_or_else(|| c.to_string(), |op| op.to_string());
            i += op.chars().count();
            out.push(Tok::Op(op));
        }
    }
    Some(out)
}

/// Reads a quoted string starting at `start` (the opening quote); returns the
/// literal as written and the index after it.
fn read_string(chars: &[char], start: usize, kind: DialectKind) -> Option<(String, usize)> {
    let quote = chars[start];
    let mut j = start + 1;
    loop {
        let ch = *chars.get(j)?;
        if ch == '\\' && backslash_escapes(kind) {
            j += 2;
            continue;
        }
        if ch == quote {
            if chars.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            break;
        }
        j += 1;
    }
    Some((chars[start..=j].iter().collect(), j + 1))
}

/// Words that keep a space before `(` and allow the parentheses after them to
/// be dropped when they hold a single token.
const OPERATOR_WORDS: [&str; 8] = ["and", "or", "not", "when", "then", "else", "case", "return"];

/// Words after which `(` opens a list or subquery, not a call.
const SPACED_WORDS: [&str; 18] = [
    "and", "or", "not", "in", "is", "like", "between", "when", "then", "else", "case", "exists",
    "any", "all", "some", "as", "on", "return",
];

/// Reserved words that must stay quoted when used as names.
const RESERVED: [&str; 64] = [
    "all",
    "alter",
    "and",
    "any",
    "as",
    "asc",
    "between",
    "by",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "delete",
    "desc",
    "distinct",
    "drop",
    "else",
    "end",
    "except",
    "exists",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "in",
    "index",
    "inner",
    "insert",
    "intersect",
    "into",
    "is",
    "join",
    "key",
    "left",
    "like",
    "limit",
    "not",
    "null",
    "on",
    "or",
    "order",
    "primary",
    "references",
    "select",
    "table",
    "then",
    "to",
    "true",
    "union",
    "user",
];

const RESERVED_MORE: [&str; 8] = [
    "unique", "update", "using", "values", "when", "where", "with", "offset",
];

/// Words of the lists above that PostgreSQL treats as unreserved keywords:
/// it prints them bare in the expressions it reports (`quote_ident('key')`
/// is `key`), so a quoted `"key"` must compare equal to a bare `key`.
const POSTGRES_UNRESERVED: [&str; 8] = [
    "alter", "by", "delete", "drop", "index", "insert", "key", "update",
];

fn is_plain_name(kind: DialectKind, name: &str) -> bool {
    let mut chars = name.chars();
    let shaped = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    let reserved = RESERVED.contains(&name) || RESERVED_MORE.contains(&name);
    shaped && (!reserved || (kind == DialectKind::Postgres && POSTGRES_UNRESERVED.contains(&name)))
}

/// The canonical tokens of an expression, or `None` if it does not lex.
pub(crate) fn canonical_tokens(kind: DialectKind, text: &str) -> Option<Vec<Tok>> {
    let mut toks = tokenize(kind, text)?;
    for t in toks.iter_mut() {
        match t {
            Tok::Word(w) => *w = w.to_lowercase(),
            Tok::Ident(name) => {
                if kind != DialectKind::Postgres {
                    // Every other dialect matches names without regard to case.
                    *name = name.to_lowercase();
                }
                if is_plain_name(kind, name) {
                    *t = Tok::Word(name.clone());
                }
            }
            Tok::Op(op) if op == "!=" => *op = "<>".to_string(),
            Tok::Op(op) if op == "==" => *op = "=".to_string(),
            _ => {}
        }
    }
    if kind == DialectKind::Mysql {
        // One spelling per string: MariaDB reports 'x''y' as 'x\'y'.
        for t in toks.iter_mut() {
            if let Tok::Str(lit) = t {
                if let Some(value) = mysql_string_value(lit) {
                    *lit = format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"));
                }
            }
        }
        // Character set introducers (`_utf8mb4'abc'`) as MySQL reports defaults.
        let mut i = 0;
        while i + 1 < toks.len() {
            if matches!((&toks[i], &toks[i + 1]), (Tok::Word(w), Tok::Str(_)) if w.starts_with('_'))
            {
                toks.remove(i);
            } else {
                i += 1;
            }
        }
    }
    loop {
        while simplify(&mut toks) {}
        let rewritten = kind == DialectKind::Postgres
            && (postgres_in_list(&mut toks) || postgres_text_cast(&mut toks));
        if !rewritten {
            break;
        }
    }
    Some(toks)
}

/// PostgreSQL shows the implicit cast of a varchar column to text when it
/// is compared with text (`(name)::text <> ''` for `name <> ''`): drops the
/// first `::text` cast of a column reference; `true` if it did.
fn postgres_text_cast(toks: &mut Vec<Tok>) -> bool {
    for i in 1..toks.len() {
        let column = match &toks[i - 1] {
            Tok::Ident(_) => true,
            Tok::Word(w) => !matches!(w.as_str(), "null" | "true" | "false"),
            _ => false,
        };
        let cast = matches!(&toks[i], Tok::Op(o) if o == "::")
            && matches!(toks.get(i + 1), Some(Tok::Word(w)) if w == "text")
            && !matches!(toks.get(i + 2), Some(Tok::Op(o)) if o == "[" || o == "::")
            && !matches!(toks.get(i + 2), Some(Tok::LParen | Tok::Dot));
        if column && cast {
            toks.drain(i..i + 2);
            return true;
        }
    }
    false
}

/// PostgreSQL stores `x IN (a, b)` as `x = ANY (ARRAY[a, b])` and
/// `x NOT IN (a, b)` as `x <> ALL (ARRAY[a, b])`; for a varchar column the
/// array is cast to text as well (`(x)::text = ANY ((ARRAY[a, b])::text[])`,
/// the column's cast is [`postgres_text_cast`]'s). Rewrites the first such
/// comparison back into an `IN` list; `true` if it did.
fn postgres_in_list(toks: &mut Vec<Tok>) -> bool {
    let word = |t: Option<&Tok>, w: &str| matches!(t, Some(Tok::Word(x)) if x == w);
    let op = |t: Option<&Tok>, o: &str| matches!(t, Some(Tok::Op(x)) if x == o);
    for i in 0..toks.len() {
        let negated = if op(toks.get(i), "=") && word(toks.get(i + 1), "any") {
            false
        } else if op(toks.get(i), "<>") && word(toks.get(i + 1), "all") {
            true
        } else {
            continue;
        };
        let open = i + 2;
        if toks.get(open) != Some(&Tok::LParen) {
            continue;
        }
        let Some(close) = matching_paren(toks, open) else {
            continue;
        };
        let Some(items) = array_items(&toks[open + 1..close]) else {
            continue;
        };
        let mut list = Vec::with_capacity(items.len() + 3);
        if negated {
            list.push(Tok::Word("not".into()));
        }
        list.push(Tok::Word("in".into()));
        list.push(Tok::LParen);
        list.extend(items);
        list.push(Tok::RParen);
        toks.splice(i..=close, list);
        return true;
    }
    false
}

/// The items of `ARRAY[…]`, possibly written `(ARRAY[…])::type[]`.
fn array_items(inner: &[Tok]) -> Option<Vec<Tok>> {
    let is = |t: &Tok, o: &str| matches!(t, Tok::Op(x) if x == o);
    let array = match inner {
        [Tok::LParen, ..] => {
            let close = matching_paren(inner, 0)?;
            let cast = &inner[close + 1..];
            let typed = matches!(cast, [Tok::Op(c), Tok::Word(_), .., l, r]
                if c == "::" && is(l, "[") && is(r, "]"));
            if !typed {
                return None;
            }
            &inner[1..close]
        }
        _ => inner,
    };
    match array {
        [Tok::Word(a), l, items @ .., r] if a == "array" && is(l, "[") && is(r, "]") => {
            Some(items.to_vec())
        }
        _ => None,
    }
}

/// The value of a plain MySQL string literal (`'…'` or `"…"`, no prefix):
/// doubled quotes and backslash escapes decoded.
fn mysql_string_value(lit: &str) -> Option<String> {
    let quote = lit.chars().next().filter(|q| *q == '\'' || *q == '"')?;
    let inner = lit.get(1..lit.len().checked_sub(1)?)?;
    let mut value = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                '0' => value.push('\0'),
                'b' => value.push('\u{8}'),
                'n' => value.push('\n'),
                'r' => value.push('\r'),
                't' => value.push('\t'),
                'Z' => value.push('\u{1a}'),
                // Kept with their backslash, for LIKE patterns.
                e @ ('%' | '_') => {
                    value.push('\\');
                    value.push(e);
                }
                other => value.push(other),
            }
        } else if c == quote {
            // A doubled quote; the lexer ends the literal at a lone one.
            chars.next();
            value.push(c);
        } else {
            value.push(c);
        }
    }
    Some(value)
}

/// The canonical spelling of an expression; text that does not lex is only
/// trimmed and has its whitespace collapsed.
pub(crate) fn canonical(kind: DialectKind, text: &str) -> String {
    match canonical_tokens(kind, text) {
        Some(toks) => join(kind, &toks),
        None => text.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

fn is_value(t: &Tok) -> bool {
    matches!(t, Tok::Str(_) | Tok::Num(_))
        || matches!(t, Tok::Word(w) if matches!(w.as_str(), "null" | "true" | "false"))
}

/// Whether a `(` right after `prev` only groups (so it may be dropped).
fn grouping_paren(prev: Option<&Tok>) -> bool {
    match prev {
        None | Some(Tok::Op(_) | Tok::LParen | Tok::Comma) => true,
        Some(Tok::Word(w)) => OPERATOR_WORDS.contains(&w.as_str()),
        _ => false,
    }
}

fn matching_paren(toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t {
            Tok::LParen => depth += 1,
            Tok::RParen => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Continuation words of multi-word type names (`character varying`,
/// `double precision`, `timestamp with time zone`).
const TYPE_WORDS: [&str; 6] = ["varying", "precision", "with", "without", "time", "zone"];

/// One simplification step; `true` if anything changed.
fn simplify(toks: &mut Vec<Tok>) -> bool {
    // The whole expression in parentheses.
    if toks.first() == Some(&Tok::LParen) && matching_paren(toks, 0) == Some(toks.len() - 1) {
        toks.pop();
        toks.remove(0);
        return true;
    }
    for i in 0..toks.len() {
        let prev = if i == 0 { None } else { toks.get(i - 1) };
        match &toks[i] {
            // Unary minus and plus on a number.
            Tok::Op(op) if (op == "-" || op == "+") && grouping_paren(prev) => {
                if let Some(Tok::Num(n)) = toks.get(i + 1) {
                    let merged = if op == "-" {
                        if let Some(positive) = n.strip_prefix('-') {
                            positive.to_string()
                        } else {
                            format!("-{n}")
                        }
                    } else {
                        n.clone()
                    };
                    toks.splice(i..i + 2, [Tok::Num(merged)]);
                    return true;
                }
            }
            // A cast of a literal: the literal alone compares and behaves the same.
            Tok::Op(op) if op == "::" && i > 0 && is_value(&toks[i - 1]) => {
                let mut j = i + 1;
                if !matches!(toks.get(j), Some(Tok::Word(_))) {
                    continue;
                }
                j += 1;
                while matches!(toks.get(j), Some(Tok::Word(w)) if TYPE_WORDS.contains(&w.as_str()))
                {
                    j += 1;
                }
                if toks.get(j) == Some(&Tok::LParen) {
                    if let Some(close) = matching_paren(toks, j) {
                        j = close + 1;
                    }
                }
                while matches!(toks.get(j), Some(Tok::Word(w)) if TYPE_WORDS.contains(&w.as_str()))
                {
                    j += 1;
                }
                if toks.get(j) == Some(&Tok::Op("[".into()))
                    && toks.get(j + 1) == Some(&Tok::Op("]".into()))
                {
                    j += 2;
                }
                toks.drain(i..j);
                return true;
            }
            Tok::LParen if grouping_paren(prev) => {
                let Some(close) = matching_paren(toks, i) else {
                    continue;
                };
                let single = close == i + 2
                    && matches!(
                        toks[i + 1],
                        Tok::Str(_) | Tok::Num(_) | Tok::Word(_) | Tok::Ident(_)
                    );
                let doubled = toks.get(i + 1) == Some(&Tok::LParen)
                    && matching_paren(toks, i + 1) == Some(close - 1);
                if single || doubled {
                    toks.remove(close);
                    toks.remove(i);
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Writes tokens back as SQL with one canonical spacing.
pub(crate) fn join(kind: DialectKind, toks: &[Tok]) -> String {
    let mut out = String::new();
    for (i, t) in toks.iter().enumerate() {
        if i > 0 && spaced(&toks[i - 1], t) {
            out.push(' ');
        }
        match t {
            Tok::Str(s) | Tok::Word(s) | Tok::Num(s) | Tok::Op(s) => out.push_str(s),
            Tok::Ident(name) => out.push_str(&quote_ident_for(kind, name)),
            Tok::LParen => out.push('('),
            Tok::RParen => out.push(')'),
            Tok::Comma => out.push(','),
            Tok::Dot => out.push('.'),
        }
    }
    out
}

fn spaced(a: &Tok, b: &Tok) -> bool {
    match (a, b) {
        (Tok::LParen, _) | (_, Tok::RParen | Tok::Comma) => false,
        (Tok::Dot, _) | (_, Tok::Dot) => false,
        (Tok::Op(op), _) | (_, Tok::Op(op)) if op == "::" || op == "[" || op == "]" => false,
        (Tok::Word(w), Tok::LParen) => SPACED_WORDS.contains(&w.as_str()),
        (Tok::Ident(_), Tok::LParen) => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(kind: DialectKind, text: &str) -> String {
        canonical(kind, text)
    }

    #[test]
    fn spelling_differences_disappear() {
        let pg = DialectKind::Postgres;
        assert_eq!(c(pg, "((price >= (0)::numeric))"), "price >= 0");
        assert_eq!(c(pg, "'a'::character varying(10)"), "'a'");
        assert_eq!(c(pg, "'{}'::text[]"), "'{}'");
        assert_eq!(c(pg, "x > - 1"), "x > -1");
        assert_eq!(c(pg, "status IN ('a','b')"), "status in ('a', 'b')");
        assert_eq!(c(pg, "lower( \"email\" )"), "lower(email)");
        assert_eq!(c(pg, "\"Email\" <> ''"), "\"Email\" <> ''");
        // IN lists as PostgreSQL stores them, for char, text and varchar columns.
        assert_eq!(
            c(pg, "(status = ANY (ARRAY['n'::bpchar, 'p'::bpchar]))"),
            "status in ('n', 'p')"
        );
        assert_eq!(
            c(pg, "((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))"),
            c(pg, "status IN ('a', 'b')")
        );
        assert_eq!(
            c(pg, "(status <> ALL (ARRAY['x'::text]))"),
            c(pg, "status NOT IN ('x')")
        );
        // The implicit text cast of a varchar column, not other casts.
        assert_eq!(
            c(pg, "((\"sp ace\")::text <> ''::text)"),
            "\"sp ace\" <> ''"
        );
        assert_eq!(c(pg, "(n)::integer > 0"), "n::integer > 0");
        // PostgreSQL prints unreserved keywords bare and reserved ones quoted.
        assert_eq!(c(pg, "\"key\" >= 0"), "key >= 0");
        assert_eq!(c(pg, "\"order\" >= 0"), "\"order\" >= 0");
        assert_eq!(
            c(DialectKind::SqlServer, "([a]>=(0) AND [b]<>N'x')"),
            "a >= 0 and b <> n'x'"
        );
        assert_eq!(
            c(DialectKind::Mysql, "`select` = 'it\\'s'"),
            "`select` = 'it''s'"
        );
        // MariaDB reports 'x''y' as 'x\'y'; a backslash stays doubled.
        assert_eq!(
            c(DialectKind::Mysql, "'x\\'y'"),
            c(DialectKind::Mysql, "'x''y'")
        );
        assert_eq!(c(DialectKind::Mysql, "\"a\\\\b\""), "'a\\\\b'");
    }

    #[test]
    fn literals_and_call_parentheses_are_kept() {
        let pg = DialectKind::Postgres;
        // Case and spacing inside a literal are data.
        assert_eq!(c(pg, "'A  B'"), "'A  B'");
        assert_eq!(c(pg, "now()"), "now()");
        assert_eq!(c(pg, "a in (1)"), "a in (1)");
        assert_eq!(c(pg, "(a + b) * c"), "(a + b) * c");
        assert_eq!(c(pg, "a - 1"), "a - 1");
    }

    #[test]
    fn text_that_does_not_lex_only_has_its_whitespace_collapsed() {
        assert_eq!(
            c(DialectKind::Postgres, "  'open   literal "),
            "'open literal"
        );
    }

    #[test]
    fn canonical_text_is_a_fixed_point() {
        for kind in DialectKind::ALL {
            for text in [
                "((price >= (0)::numeric))",
                "[a]>=(0)",
                "`x` in (_utf8mb4'a')",
                "coalesce(a, b) <> - (2)",
                "-- comment\nx = 1",
            ] {
                let once = c(kind, text);
                assert_eq!(c(kind, &once), once, "{kind} {text}");
            }
        }
    }
}
