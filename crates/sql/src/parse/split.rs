//! From text to statements: tokenizing, cutting the file into statements,
//! and deciding what a statement sqlparser cannot read means for the import.
//!
//! The file is cut at top-level semicolons (at `GO` batch lines on SQL
//! Server, where semicolons are optional) and each piece is parsed on its
//! own, so one statement sqlparser does not know (pg_dump's `CREATE
//! SEQUENCE … AS integer START WITH 1 …`, SQLite's `PRAGMA … = ON`) costs only
//! that statement, not the whole file.

use super::{tsql, ParseError, SourceDialect};
use sqlparser::ast::Statement;
use sqlparser::dialect::{Dialect, MsSqlDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::{Parser, ParserError, ParserOptions};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Whitespace};
use std::borrow::Cow;

/// One statement of the file, parsed or not.
#[derive(Debug)]
pub(crate) struct SourceStatement {
    /// 1-based line of the statement's first token.
    pub line: u64,
    /// The statement's first words as written, whitespace collapsed, for
    /// the skipped list.
    pub summary: String,
    /// The statement, or why it could not be read.
    pub body: Body,
}

/// What the parser made of a statement.
#[derive(Debug)]
pub(crate) enum Body {
    /// A statement sqlparser understood.
    Parsed(Box<Statement>),
    /// A statement sqlparser could not read and that does not touch tables,
    /// indexes or schemas; the parser's message is kept for the report.
    Unreadable(String),
}

/// The longest summary kept for a skipped statement, in characters.
const SUMMARY_CHARS: usize = 72;

/// Tokenizes and parses the whole file. A statement that cannot be read is
/// returned as [`Body::Unreadable`] when it cannot have described the
/// schema, and is a [`ParseError::Syntax`] otherwise.
pub(crate) fn parse_statements(
    sql: &str,
    dialect: SourceDialect,
) -> Result<Vec<SourceStatement>, ParseError> {
    let parser_dialect = parser_dialect(dialect);
    let sql = if dialect == SourceDialect::Postgres {
        blank_copy_data(sql)
    } else {
        Cow::Borrowed(sql)
    };
    let mut tokens = Tokenizer::new(parser_dialect.as_ref(), &sql)
        .with_unescape(true)
        .tokenize_with_location()
        .map_err(|e| ParseError::Syntax {
            dialect,
            line: e.location.line,
            column: e.location.column,
            message: e.message,
        })?;
    blank_identity_sequence_options(&mut tokens);
    if dialect == SourceDialect::SqlServer {
        tsql::normalize(&mut tokens);
    }

    let mut out = Vec::new();
    for piece in pieces(&tokens, dialect) {
        if let Some(reason) = piece.opaque {
            let first = piece.tokens.iter().find(|t| is_significant(t));
            out.push(SourceStatement {
                line: first.map_or(0, |t| t.span.start.line),
                summary: summarize(piece.tokens),
                body: Body::Unreadable(reason.to_string()),
            });
        } else {
            parse_piece(piece.tokens, dialect, parser_dialect.as_ref(), &mut out)?;
        }
    }
    Ok(out)
}

/// Blanks the data rows that follow `COPY … FROM stdin;` in a pg_dump file,
/// up to the `\.` line. They are not SQL: a quote in a value would make the
/// whole file untokenizable. Characters become spaces and line breaks stay,
/// so every location after them is unchanged.
fn blank_copy_data(sql: &str) -> Cow<'_, str> {
    let mut out = String::with_capacity(sql.len());
    let mut in_data = false;
    let mut changed = false;
    for line in sql.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if in_data {
            changed = true;
            in_data = content.trim() != "\\.";
            out.extend(content.chars().map(|_| ' '));
            out.push_str(&line[content.len()..]);
            continue;
        }
        let lower = content.trim().to_ascii_lowercase();
        in_data =
            lower.starts_with("copy ") && lower.contains(" from stdin") && lower.ends_with(';');
        out.push_str(line);
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(sql)
    }
}

pub(crate) fn parser_dialect(dialect: SourceDialect) -> Box<dyn Dialect> {
    match dialect {
        SourceDialect::Postgres => Box::new(PostgreSqlDialect {}),
        SourceDialect::Mysql => Box::new(MySqlDialect {}),
        SourceDialect::Sqlite => Box::new(SQLiteDialect {}),
        SourceDialect::SqlServer => Box::new(MsSqlDialect {}),
    }
}

pub(super) fn is_significant(token: &TokenWithSpan) -> bool {
    !matches!(token.token, Token::Whitespace(_))
}

/// Whether the token is the unquoted word `word` (any ASCII case). Words
/// are compared as text because not every T-SQL word is an sqlparser keyword.
pub(super) fn is_word(token: &TokenWithSpan, word: &str) -> bool {
    matches!(&token.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

pub(super) fn blank(token: &mut TokenWithSpan) {
    // Keeping the span means every later location still points into the
    // original text.
    token.token = Token::Whitespace(Whitespace::Space);
}

/// Indexes of the non-whitespace tokens.
pub(super) fn significant_indexes(tokens: &[TokenWithSpan]) -> Vec<usize> {
    (0..tokens.len())
        .filter(|&i| is_significant(&tokens[i]))
        .collect()
}

/// Removes the parenthesized sequence options after `AS IDENTITY`.
///
/// pg_dump writes `ADD GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME s START
/// WITH 1 INCREMENT BY 1 …)`, in an order sqlparser rejects; the model keeps
/// only the fact that the column is an identity, so the options can go.
fn blank_identity_sequence_options(tokens: &mut [TokenWithSpan]) {
    let sig = significant_indexes(tokens);
    for w in 0..sig.len().saturating_sub(2) {
        if is_word(&tokens[sig[w]], "AS")
            && is_word(&tokens[sig[w + 1]], "IDENTITY")
            && tokens[sig[w + 2]].token == Token::LParen
        {
            let mut depth = 0usize;
            for &i in &sig[w + 2..] {
                match tokens[i].token {
                    Token::LParen => depth += 1,
                    Token::RParen => depth -= 1,
                    _ => {}
                }
                blank(&mut tokens[i]);
                if depth == 0 {
                    break;
                }
            }
        }
    }
}

/// How many tokens a (possibly qualified) object name takes at the start
/// of a run of significant tokens: `word ( . word )*`. `token(i)` is the
/// i-th significant token of the run.
pub(super) fn skip_name<'t>(token: impl Fn(usize) -> Option<&'t Token>) -> usize {
    let is_word_token = |i: usize| matches!(token(i), Some(Token::Word(_)));
    if !is_word_token(0) {
        return 0;
    }
    let mut n = 1;
    while token(n) == Some(&Token::Period) && is_word_token(n + 1) {
        n += 2;
    }
    n
}

/// A run of tokens parsed on its own.
struct Piece<'t> {
    tokens: &'t [TokenWithSpan],
    /// Why the piece is skipped without parsing: it is not SQL (a psql
    /// meta-command) or its inner semicolons do not end statements (a MySQL
    /// `DELIMITER` block of routines and triggers).
    opaque: Option<&'static str>,
}

/// Cuts the tokens into pieces that are parsed independently: at top-level
/// semicolons, or at `GO` lines on SQL Server (whose statements need no
/// semicolons, so a batch is the smallest safe piece).
fn pieces(tokens: &[TokenWithSpan], dialect: SourceDialect) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut depth = 0i64;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::SemiColon if depth <= 0 && dialect != SourceDialect::SqlServer => {
                out.push(Piece {
                    tokens: &tokens[start..i],
                    opaque: None,
                });
                start = i + 1;
                depth = 0;
            }
            Token::Word(_) if dialect == SourceDialect::SqlServer => {
                if let Some(end) = go_separator_end(tokens, i) {
                    out.push(Piece {
                        tokens: &tokens[start..i],
                        opaque: None,
                    });
                    start = end;
                    i = end;
                    depth = 0;
                    continue;
                }
            }
            Token::Backslash
                if dialect == SourceDialect::Postgres && line_starting_at(tokens, i).is_some() =>
            {
                let line = tokens[i].span.start.line;
                let end = tokens[i..]
                    .iter()
                    .position(|t| t.span.start.line != line)
                    .map_or(tokens.len(), |p| i + p);
                out.push(Piece {
                    tokens: &tokens[start..i],
                    opaque: None,
                });
                out.push(Piece {
                    tokens: &tokens[i..end],
                    opaque: Some("a psql meta-command, not SQL"),
                });
                start = end;
                i = end;
                depth = 0;
                continue;
            }
            Token::Word(_) if dialect == SourceDialect::Mysql => {
                if let Some(end) = delimiter_block_end(tokens, i) {
                    out.push(Piece {
                        tokens: &tokens[start..i],
                        opaque: None,
                    });
                    out.push(Piece {
                        tokens: &tokens[i..end],
                        opaque: Some(
                            "triggers and routines between DELIMITER lines are not imported",
                        ),
                    });
                    start = end;
                    i = end;
                    depth = 0;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out.push(Piece {
        tokens: &tokens[start..],
        opaque: None,
    });
    out.retain(|piece| piece.tokens.iter().any(is_significant));
    out
}

/// The significant tokens on the rest of the line that starts at `i`, when
/// `tokens[i]` is the first significant token of its line.
pub(super) fn line_starting_at(tokens: &[TokenWithSpan], i: usize) -> Option<Vec<&TokenWithSpan>> {
    let line = tokens[i].span.start.line;
    let previous = tokens[..i].iter().rev().find(|t| is_significant(t));
    if previous.is_some_and(|t| t.span.end.line >= line) {
        return None;
    }
    Some(
        tokens[i..]
            .iter()
            .take_while(|t| t.span.start.line == line)
            .filter(|t| is_significant(t))
            .collect(),
    )
}

/// If `tokens[i]` starts a `DELIMITER xx` line (any delimiter but `;`), the
/// index just past the `DELIMITER ;` line that ends the block, or the end.
fn delimiter_block_end(tokens: &[TokenWithSpan], i: usize) -> Option<usize> {
    let is_delimiter_line = |i: usize| {
        if !is_word(&tokens[i], "DELIMITER") {
            return None;
        }
        let line = line_starting_at(tokens, i)?;
        Some(line.len() == 2 && line[1].token == Token::SemiColon)
    };
    if is_delimiter_line(i)? {
        return None;
    }
    for j in i + 1..tokens.len() {
        if is_delimiter_line(j) == Some(true) {
            let line = tokens[j].span.start.line;
            let end = tokens[j..]
                .iter()
                .position(|t| t.span.start.line != line)
                .map_or(tokens.len(), |p| j + p);
            return Some(end);
        }
    }
    Some(tokens.len())
}

/// If `tokens[i]` is a `GO` batch separator (alone on its line, optionally
/// with a repeat count), the index just past it.
fn go_separator_end(tokens: &[TokenWithSpan], i: usize) -> Option<usize> {
    if !is_word(&tokens[i], "GO") {
        return None;
    }
    let line = tokens[i].span.start.line;
    line_starting_at(tokens, i)?;
    let mut end = i + 1;
    let mut next = tokens[end..]
        .iter()
        .position(is_significant)
        .map(|p| p + end);
    if let Some(n) = next {
        if matches!(tokens[n].token, Token::Number(..)) && tokens[n].span.start.line == line {
            end = n + 1;
            next = tokens[end..]
                .iter()
                .position(is_significant)
                .map(|p| p + end);
        }
    }
    match next {
        Some(n) if tokens[n].span.start.line == line => None,
        _ => Some(end),
    }
}

fn parse_piece(
    piece: &[TokenWithSpan],
    dialect: SourceDialect,
    parser_dialect: &dyn Dialect,
    out: &mut Vec<SourceStatement>,
) -> Result<(), ParseError> {
    let options = ParserOptions {
        require_semicolon_stmt_delimiter: dialect != SourceDialect::SqlServer,
        ..ParserOptions::default()
    };
    let mut parser = Parser::new(parser_dialect)
        .with_options(options)
        .with_tokens_with_locations(piece.to_vec());
    loop {
        while parser.consume_token(&Token::SemiColon) {}
        if parser.peek_token_ref().token == Token::EOF {
            return Ok(());
        }
        let start_index = parser.index();
        let start = parser.peek_token_ref().span.start;
        let result = parser.parse_statement().and_then(|statement| {
            let next = parser.peek_token_ref();
            let delimited = matches!(next.token, Token::EOF | Token::SemiColon);
            if delimited || dialect == SourceDialect::SqlServer {
                Ok(statement)
            } else {
                Err(ParserError::ParserError(format!(
                    "Expected: end of statement, found: {}{}",
                    next.token, next.span.start
                )))
            }
        });
        match result {
            Ok(statement) => {
                let end = parser.index().min(piece.len());
                out.push(SourceStatement {
                    line: start.line,
                    summary: summarize(&piece[start_index..end]),
                    body: Body::Parsed(Box::new(statement)),
                });
            }
            Err(error) => {
                // The rest of the piece cannot be trusted any more; it is
                // either one statement we may skip or a hard error.
                let rest = &piece[start_index.min(piece.len())..];
                let (message, line, column) = split_parser_error(&error);
                if describes_schema(rest, dialect) {
                    return Err(ParseError::Syntax {
                        dialect,
                        line: line.unwrap_or(start.line),
                        column: column.unwrap_or(start.column),
                        message,
                    });
                }
                out.push(SourceStatement {
                    line: start.line,
                    summary: summarize(rest),
                    body: Body::Unreadable(message),
                });
                return Ok(());
            }
        }
    }
}

/// sqlparser puts the location at the end of its message as
/// ` at Line: L, Column: C`; this takes it apart.
fn split_parser_error(error: &ParserError) -> (String, Option<u64>, Option<u64>) {
    let text = match error {
        ParserError::TokenizerError(s) | ParserError::ParserError(s) => s.clone(),
        ParserError::RecursionLimitExceeded => "statement nested too deeply".to_string(),
    };
    if let Some((message, location)) = text.rsplit_once(" at Line: ") {
        if let Some((line, column)) = location.split_once(", Column: ") {
            if let (Ok(line), Ok(column)) = (line.trim().parse(), column.trim().parse()) {
                return (message.to_string(), Some(line), Some(column));
            }
        }
    }
    (text, None, None)
}

/// Whether unreadable tokens would have created or changed a table, an
/// index or a schema (or their comments). Skipping such a statement would
/// import a wrong schema without a word, so it must be an error instead.
fn describes_schema(tokens: &[TokenWithSpan], dialect: SourceDialect) -> bool {
    let sig: Vec<&TokenWithSpan> = tokens.iter().filter(|t| is_significant(t)).collect();
    if starts_routine(&sig) {
        // A routine's body runs later; DDL inside it is not the schema.
        return false;
    }
    (0..sig.len()).any(|i| starts_schema_statement(&sig[i..], dialect))
}

/// `CREATE [OR ALTER] [DEFINER=…] PROCEDURE|FUNCTION|TRIGGER|VIEW|EVENT …`:
/// on SQL Server such a statement takes its whole batch.
fn starts_routine(sig: &[&TokenWithSpan]) -> bool {
    if !sig
        .first()
        .is_some_and(|t| is_word(t, "CREATE") || is_word(t, "ALTER"))
    {
        return false;
    }
    for token in sig.iter().skip(1).take(12) {
        if ["TABLE", "INDEX", "SCHEMA", "DATABASE"]
            .iter()
            .any(|k| is_word(token, k))
        {
            return false;
        }
        if ["PROCEDURE", "PROC", "FUNCTION", "TRIGGER", "VIEW", "EVENT"]
            .iter()
            .any(|k| is_word(token, k))
        {
            return true;
        }
    }
    false
}

fn starts_schema_statement(sig: &[&TokenWithSpan], dialect: SourceDialect) -> bool {
    let Some(first) = sig.first() else {
        return false;
    };
    if is_word(first, "CREATE") {
        const MODIFIERS: [&str; 12] = [
            "OR",
            "REPLACE",
            "UNIQUE",
            "CLUSTERED",
            "NONCLUSTERED",
            "TEMPORARY",
            "TEMP",
            "UNLOGGED",
            "GLOBAL",
            "LOCAL",
            "FULLTEXT",
            "SPATIAL",
        ];
        let mut rest = sig[1..].iter();
        for token in rest.by_ref() {
            if MODIFIERS.iter().any(|k| is_word(token, k)) {
                continue;
            }
            return is_word(token, "TABLE")
                || is_word(token, "INDEX")
                || is_word(token, "SCHEMA")
                || (dialect == SourceDialect::Mysql && is_word(token, "DATABASE"));
        }
        return false;
    }
    if is_word(first, "ALTER") && sig.len() > 1 && is_word(sig[1], "TABLE") {
        // What follows the table name says whether columns or constraints
        // change; `CHECK CONSTRAINT`, `OWNER TO`, `REPLICA IDENTITY` and the
        // like do not touch the model.
        let mut n = 2;
        if sig.len() > n + 1 && is_word(sig[n], "IF") && is_word(sig[n + 1], "EXISTS") {
            n += 2;
        }
        if sig.len() > n && is_word(sig[n], "ONLY") {
            n += 1;
        }
        n += skip_name(|i| sig.get(n + i).map(|t| &t.token));
        return sig.get(n).is_some_and(|t| {
            ["ADD", "ALTER", "MODIFY", "CHANGE", "RENAME", "DROP"]
                .iter()
                .any(|k| is_word(t, k))
        });
    }
    is_word(first, "COMMENT") && sig.len() > 1 && is_word(sig[1], "ON")
}

/// The tokens as written, comments dropped, whitespace collapsed and cut
/// to [`SUMMARY_CHARS`] at a word boundary. Built from tokens rather than
/// cut from the text because sqlparser's locations inside MySQL's `/*!…*/`
/// comments do not point at the text.
fn summarize(tokens: &[TokenWithSpan]) -> String {
    let mut text = String::new();
    for token in tokens {
        match &token.token {
            Token::Whitespace(_) => text.push(' '),
            other => text.push_str(&other.to_string()),
        }
    }
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= SUMMARY_CHARS {
        return collapsed;
    }
    let cut: String = collapsed.chars().take(SUMMARY_CHARS).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > SUMMARY_CHARS / 2 => cut[..space].to_string(),
        _ => cut,
    };
    format!("{cut} …")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summaries(sql: &str, dialect: SourceDialect) -> Vec<String> {
        parse_statements(sql, dialect)
            .unwrap()
            .into_iter()
            .map(|s| format!("{}: {}", s.line, s.summary))
            .collect()
    }

    #[test]
    fn go_lines_separate_batches_but_go_inside_a_line_does_not() {
        let sql = "CREATE TABLE a (go int)\nGO\nCREATE TABLE b (x int)\n  go 2\nSELECT 1";
        assert_eq!(
            summaries(sql, SourceDialect::SqlServer),
            vec![
                "1: CREATE TABLE a (go int)",
                "3: CREATE TABLE b (x int)",
                "5: SELECT 1"
            ]
        );
    }

    #[test]
    fn unreadable_statement_is_kept_when_it_does_not_touch_tables() {
        let sql = "PRAGMA foreign_keys = ON;\nCREATE TABLE t (id INTEGER);";
        let statements = parse_statements(sql, SourceDialect::Sqlite).unwrap();
        assert!(matches!(statements[0].body, Body::Unreadable(_)));
        assert!(matches!(statements[1].body, Body::Parsed(_)));
        assert_eq!(statements[1].line, 2);
    }

    #[test]
    fn unreadable_create_table_is_a_syntax_error_with_its_location() {
        let err = parse_statements(
            "SELECT 1;\nCREATE TABLE t (id int,, x int);",
            SourceDialect::Postgres,
        )
        .unwrap_err();
        match err {
            ParseError::Syntax { line, column, .. } => assert_eq!((line, column), (2, 24)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn summaries_are_cut_at_a_word_boundary() {
        let sql = format!("INSERT INTO t VALUES ({})", vec!["12345"; 40].join(", "));
        let s = &summaries(&sql, SourceDialect::Postgres)[0];
        assert_eq!(
            s,
            "1: INSERT INTO t VALUES (12345, 12345, 12345, 12345, 12345, 12345, 12345, …"
        );
    }

    #[test]
    fn summaries_keep_the_text_as_written_without_comments() {
        let sql = "-- ü\nINSERT  INTO t /* why */ VALUES('Grüße');\n/*!40101 SET NAMES utf8mb4 */;";
        assert_eq!(
            summaries(sql, SourceDialect::Mysql),
            vec!["2: INSERT INTO t VALUES('Grüße')", "3: SET NAMES utf8mb4"]
        );
    }

    #[test]
    fn pg_dump_copy_data_is_not_read_as_sql() {
        let sql = "COPY public.t (id, name) FROM stdin;\n1\tO'Brien\n2\tx;y\n\\.\n\nALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);";
        assert_eq!(
            summaries(sql, SourceDialect::Postgres),
            vec![
                "1: COPY public.t (id, name) FROM stdin",
                "6: ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id)"
            ]
        );
    }

    #[test]
    fn mysql_delimiter_blocks_are_skipped_whole() {
        let sql = "CREATE TABLE a (id int);\nDELIMITER ;;\nCREATE PROCEDURE p() BEGIN\n  CREATE TABLE tmp (x int);\n  DROP TABLE tmp;\nEND ;;\nDELIMITER ;\nCREATE TABLE b (id int);";
        let statements = parse_statements(sql, SourceDialect::Mysql).unwrap();
        let shape: Vec<(u64, bool)> = statements
            .iter()
            .map(|s| (s.line, matches!(s.body, Body::Parsed(_))))
            .collect();
        assert_eq!(shape, vec![(1, true), (2, false), (8, true)]);
        assert!(statements[1]
            .summary
            .starts_with("DELIMITER ;; CREATE PROCEDURE p()"));
    }

    #[test]
    fn ddl_inside_a_tsql_procedure_batch_is_not_the_schema() {
        let sql = "CREATE PROCEDURE dbo.load AS\nBEGIN\n  CREATE TABLE #stage (id int);\n  DBCC CHECKIDENT ('t', RESEED, 0);\nEND\nGO\nCREATE TABLE t (id int)\nGO";
        let statements = parse_statements(sql, SourceDialect::SqlServer).unwrap();
        // sqlparser cannot read the body, which is what this is about.
        assert!(matches!(statements[0].body, Body::Unreadable(_)));
        let last = statements.last().unwrap();
        assert_eq!(last.line, 7);
        assert!(matches!(last.body, Body::Parsed(_)));
    }

    #[test]
    fn psql_meta_commands_end_at_the_end_of_their_line() {
        let sql = "\\restrict abc123\nSET statement_timeout = 0;\n\\connect shop\nCREATE TABLE t (id int);";
        let statements = parse_statements(sql, SourceDialect::Postgres).unwrap();
        let shape: Vec<(u64, &str, bool)> = statements
            .iter()
            .map(|s| {
                (
                    s.line,
                    s.summary.as_str(),
                    matches!(s.body, Body::Parsed(_)),
                )
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                (1, "\\restrict abc123", false),
                (2, "SET statement_timeout = 0", true),
                (3, "\\connect shop", false),
                (4, "CREATE TABLE t (id int)", true),
            ]
        );
    }
}
