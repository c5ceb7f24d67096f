//! Just enough SQL lexing to pick apart catalog text: DDL stored by SQLite,
//! constraint definitions from PostgreSQL, default expressions from SQL
//! Server. Expressions are always cut out of the original text, never
//! re-printed, so what the database stored is what the model gets.

/// A lexical token with its byte span in the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

/// The kinds of token the callers care about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// An unquoted word (keyword or identifier), as written.
    Word(String),
    /// A quoted identifier (`"x"`, `` `x` ``, `[x]`), unescaped.
    Quoted(String),
    /// A string literal (`'x'`), kept with its quotes.
    Str,
    /// `(`.
    Open,
    /// `)`.
    Close,
    /// `,`.
    Comma,
    /// Anything else (operators, numbers, `;`, `.`).
    Other,
}

impl Token {
    /// Whether this is the unquoted keyword `kw` (case-insensitive).
    pub fn is_word(&self, kw: &str) -> bool {
        matches!(&self.kind, TokenKind::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    /// The identifier this token names, if it can name one.
    pub fn ident(&self) -> Option<String> {
        match &self.kind {
            TokenKind::Word(w) | TokenKind::Quoted(w) => Some(w.clone()),
            _ => None,
        }
    }
}

/// Splits SQL text into tokens, skipping whitespace and comments.
pub(crate) fn tokenize(sql: &str) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(bytes.len());
                continue;
            }
            b'\'' => {
                i = skip_quoted(bytes, i, b'\'');
                tokens.push(Token {
                    kind: TokenKind::Str,
                    start,
                    end: i,
                });
            }
            b'"' | b'`' => {
                i = skip_quoted(bytes, i, c);
                let inner = &sql[start + 1..i.saturating_sub(1).max(start + 1)];
                let q = c as char;
                let unescaped = inner.replace(&format!("{q}{q}"), &q.to_string());
                tokens.push(Token {
                    kind: TokenKind::Quoted(unescaped),
                    start,
                    end: i,
                });
            }
            b'[' => {
                i = skip_quoted(bytes, i, b']');
                let inner = &sql[start + 1..i.saturating_sub(1).max(start + 1)];
                tokens.push(Token {
                    kind: TokenKind::Quoted(inner.replace("]]", "]")),
                    start,
                    end: i,
                });
            }
            b'(' => {
                i += 1;
                tokens.push(Token {
                    kind: TokenKind::Open,
                    start,
                    end: i,
                });
            }
            b')' => {
                i += 1;
                tokens.push(Token {
                    kind: TokenKind::Close,
                    start,
                    end: i,
                });
            }
            b',' => {
                i += 1;
                tokens.push(Token {
                    kind: TokenKind::Comma,
                    start,
                    end: i,
                });
            }
            _ if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => {
                while i < bytes.len()
                    && (bytes[i] == b'_'
                        || bytes[i] == b'$'
                        || bytes[i].is_ascii_alphanumeric()
                        || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                tokens.push(Token {
                    kind: TokenKind::Word(sql[start..i].to_string()),
                    start,
                    end: i,
                });
            }
            _ => {
                i += 1;
                // Keep multi-byte characters whole so spans stay on char boundaries.
                while i < bytes.len() && !sql.is_char_boundary(i) {
                    i += 1;
                }
                tokens.push(Token {
                    kind: TokenKind::Other,
                    start,
                    end: i,
                });
            }
        }
    }
    tokens
}

/// Returns the index just past a quoted run that starts at `open`, where a
/// doubled closing quote is an escaped one.
fn skip_quoted(bytes: &[u8], open: usize, close: u8) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        if bytes[i] == close {
            if bytes.get(i + 1) == Some(&close) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// Given the index of an `Open` token, returns the index of its matching
/// `Close`.
pub(crate) fn matching_close(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t.kind {
            TokenKind::Open => depth += 1,
            TokenKind::Close => {
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

/// Splits `tokens[from..to]` at commas that are not nested in parentheses.
pub(crate) fn split_top_level(tokens: &[Token], from: usize, to: usize) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut part_start = from;
    for (i, t) in tokens.iter().enumerate().take(to).skip(from) {
        match t.kind {
            TokenKind::Open => depth += 1,
            TokenKind::Close => depth = depth.saturating_sub(1),
            TokenKind::Comma if depth == 0 => {
                parts.push((part_start, i));
                part_start = i + 1;
            }
            _ => {}
        }
    }
    if part_start < to {
        parts.push((part_start, to));
    }
    parts
}

/// The source text between two tokens (inclusive), trimmed.
pub(crate) fn span<'a>(sql: &'a str, tokens: &[Token], first: usize, last: usize) -> &'a str {
    sql[tokens[first].start..tokens[last].end].trim()
}

/// Removes parentheses that wrap the whole expression, repeatedly:
/// `((0))` → `0`, but `(a) + (b)` stays as it is.
pub(crate) fn strip_outer_parens(expr: &str) -> &str {
    let mut e = expr.trim();
    loop {
        let tokens = tokenize(e);
        let wraps = tokens.len() >= 2
            && tokens[0].kind == TokenKind::Open
            && matching_close(&tokens, 0) == Some(tokens.len() - 1);
        if !wraps {
            return e;
        }
        e = e[tokens[0].end..tokens[tokens.len() - 1].start].trim();
    }
}

/// Extracts the expression of a PostgreSQL `pg_get_constraintdef` check
/// definition: `CHECK ((price > 0)) NOT VALID` → `price > 0`.
pub(crate) fn check_expression(def: &str) -> String {
    let tokens = tokenize(def);
    let Some(check) = tokens.iter().position(|t| t.is_word("CHECK")) else {
        return def.trim().to_string();
    };
    let open = check + 1;
    if tokens.get(open).map(|t| &t.kind) != Some(&TokenKind::Open) {
        return def.trim().to_string();
    }
    match matching_close(&tokens, open) {
        Some(close) if close > open + 1 => {
            strip_outer_parens(span(def, &tokens, open + 1, close - 1)).to_string()
        }
        _ => def.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_keeps_quotes_and_skips_comments() {
        let sql = "CREATE TABLE \"a\"\"b\" ( -- note (\n x 'it''s (' /* ( */ , [y]]z] )";
        let kinds: Vec<TokenKind> = tokenize(sql).into_iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            vec![
                TokenKind::Word("CREATE".into()),
                TokenKind::Word("TABLE".into()),
                TokenKind::Quoted("a\"b".into()),
                TokenKind::Open,
                TokenKind::Word("x".into()),
                TokenKind::Str,
                TokenKind::Comma,
                TokenKind::Quoted("y]z".into()),
                TokenKind::Close,
            ]
        );
    }

    #[test]
    fn unicode_words_are_single_tokens() {
        let tokens = tokenize("naïve + x");
        assert_eq!(tokens[0].kind, TokenKind::Word("naïve".into()));
        assert_eq!(tokens[1].kind, TokenKind::Other);
        assert_eq!(tokens[2].kind, TokenKind::Word("x".into()));
    }

    #[test]
    fn outer_parens_are_stripped_only_when_they_wrap_everything() {
        assert_eq!(strip_outer_parens("((0))"), "0");
        assert_eq!(strip_outer_parens("(getdate())"), "getdate()");
        assert_eq!(strip_outer_parens("(a) + (b)"), "(a) + (b)");
        assert_eq!(strip_outer_parens("('(')"), "'('");
    }

    #[test]
    fn check_definitions_reduce_to_their_expression() {
        assert_eq!(
            check_expression("CHECK (price >= 0::numeric)"),
            "price >= 0::numeric"
        );
        assert_eq!(
            check_expression("CHECK ((a > 0) AND (b > 0)) NOT VALID"),
            "(a > 0) AND (b > 0)"
        );
        assert_eq!(
            check_expression("CHECK (note <> ')'::text) NO INHERIT"),
            "note <> ')'::text"
        );
    }
}
