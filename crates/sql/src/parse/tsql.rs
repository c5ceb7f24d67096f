//! SQL Server scripts as SQL Server Management Studio writes them, made
//! readable for sqlparser by editing tokens before parsing.
//!
//! "Generate Scripts" output is the usual way a SQL Server schema leaves the
//! server, and it is full of T-SQL that sqlparser does not read: storage
//! clauses (`WITH (PAD_INDEX = OFF, …) ON [PRIMARY]`, `TEXTIMAGE_ON`),
//! `CREATE NONCLUSTERED INDEX`, `ALTER TABLE … WITH CHECK ADD CONSTRAINT`
//! and defaults added as `ALTER TABLE … ADD DEFAULT (…) FOR [column]`. None
//! of the storage details exist in the model, so they are blanked; the
//! default is rewritten into the `ALTER COLUMN … SET DEFAULT` form that
//! sqlparser reads. Blanked tokens keep their spans, so every location in a
//! later error still points into the original text.

use super::split::{blank, is_word, significant_indexes, skip_name};
use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

/// Applies every rewrite, in an order where each sees the previous result.
pub(crate) fn normalize(tokens: &mut Vec<TokenWithSpan>) {
    blank_with_check(tokens);
    blank_index_clustering(tokens);
    blank_storage_clauses(tokens);
    rewrite_add_default(tokens);
}

/// `ALTER TABLE t WITH CHECK ADD …` → `ALTER TABLE t ADD …`: whether
/// existing rows are checked is not part of the schema.
fn blank_with_check(tokens: &mut [TokenWithSpan]) {
    let sig = significant_indexes(tokens);
    for w in 0..sig.len() {
        let Some(n) = after_alter_table_name(tokens, &sig, w) else {
            continue;
        };
        if n + 1 < sig.len()
            && is_word(&tokens[sig[n]], "WITH")
            && (is_word(&tokens[sig[n + 1]], "CHECK") || is_word(&tokens[sig[n + 1]], "NOCHECK"))
        {
            blank(&mut tokens[sig[n]]);
            blank(&mut tokens[sig[n + 1]]);
        }
    }
}

/// If `sig[w]` starts `ALTER TABLE name`, the position (in `sig`) just
/// after the name.
fn after_alter_table_name(tokens: &[TokenWithSpan], sig: &[usize], w: usize) -> Option<usize> {
    if w + 1 >= sig.len()
        || !is_word(&tokens[sig[w]], "ALTER")
        || !is_word(&tokens[sig[w + 1]], "TABLE")
    {
        return None;
    }
    let start = w + 2;
    let len = skip_name(|i| sig.get(start + i).map(|&t| &tokens[t].token));
    (len > 0).then_some(start + len)
}

/// `CREATE [UNIQUE] [NON]CLUSTERED INDEX` → `CREATE [UNIQUE] INDEX`.
fn blank_index_clustering(tokens: &mut [TokenWithSpan]) {
    let sig = significant_indexes(tokens);
    for w in 1..sig.len() {
        let clustering =
            is_word(&tokens[sig[w]], "CLUSTERED") || is_word(&tokens[sig[w]], "NONCLUSTERED");
        if !clustering || w + 1 >= sig.len() || !is_word(&tokens[sig[w + 1]], "INDEX") {
            continue;
        }
        let previous = &tokens[sig[w - 1]];
        let after_create = is_word(previous, "CREATE")
            || (is_word(previous, "UNIQUE") && w >= 2 && is_word(&tokens[sig[w - 2]], "CREATE"));
        if after_create {
            blank(&mut tokens[sig[w]]);
        }
    }
}

/// Blanks index options and filegroups: `) WITH (PAD_INDEX = OFF, …)`,
/// `) ON [PRIMARY]`, `) ON scheme (column)`, `TEXTIMAGE_ON [PRIMARY]` and
/// `FILESTREAM_ON …`.
fn blank_storage_clauses(tokens: &mut [TokenWithSpan]) {
    let sig = significant_indexes(tokens);
    let token = |w: usize| sig.get(w).map(|&i| &tokens[i]);
    let mut blanks: Vec<usize> = Vec::new();
    for w in 1..sig.len() {
        let after_paren = token(w - 1).is_some_and(|t| t.token == Token::RParen);
        let here = &tokens[sig[w]];
        if after_paren
            && is_word(here, "WITH")
            && token(w + 1).is_some_and(|t| t.token == Token::LParen)
            && token(w + 2).is_some_and(|t| matches!(t.token, Token::Word(_)))
            && token(w + 3).is_some_and(|t| t.token == Token::Eq)
        {
            let end = group_end(tokens, &sig, w + 1);
            blanks.extend(w..end);
        } else if after_paren && is_word(here, "ON") {
            let Some(name) = token(w + 1) else { continue };
            if !matches!(name.token, Token::Word(_))
                || is_word(name, "DELETE")
                || is_word(name, "UPDATE")
            {
                continue;
            }
            let mut end = w + 2;
            if token(end).is_some_and(|t| t.token == Token::LParen) {
                end = group_end(tokens, &sig, end);
            }
            let last_line = tokens[sig[end - 1]].span.end.line;
            let ends_clause = match token(end) {
                None => true,
                Some(next) => {
                    matches!(next.token, Token::RParen | Token::Comma | Token::SemiColon)
                        || is_word(next, "TEXTIMAGE_ON")
                        || is_word(next, "FILESTREAM_ON")
                        || next.span.start.line > last_line
                }
            };
            if ends_clause {
                blanks.extend(w..end);
            }
        } else if is_word(here, "TEXTIMAGE_ON") || is_word(here, "FILESTREAM_ON") {
            blanks.extend(w..(w + 2).min(sig.len()));
        }
    }
    for w in blanks {
        blank(&mut tokens[sig[w]]);
    }
}

/// Position in `sig` just past the parenthesized group opening at `open`.
fn group_end(tokens: &[TokenWithSpan], sig: &[usize], open: usize) -> usize {
    let mut depth = 0i64;
    for (w, &i) in sig.iter().enumerate().skip(open) {
        match tokens[i].token {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    return w + 1;
                }
            }
            _ => {}
        }
    }
    sig.len()
}

/// `ALTER TABLE t ADD [CONSTRAINT c] DEFAULT expr FOR col` →
/// `ALTER TABLE t ALTER COLUMN col SET DEFAULT expr`. The constraint name is
/// dropped: the model has no names for defaults.
fn rewrite_add_default(tokens: &mut Vec<TokenWithSpan>) {
    let sig = significant_indexes(tokens);
    // Rewrites change token counts, so they are collected first and
    // applied from the back.
    let mut rewrites: Vec<(usize, usize, usize, usize)> = Vec::new();
    for w in 0..sig.len() {
        let Some(mut n) = after_alter_table_name(tokens, &sig, w) else {
            continue;
        };
        let first_removed = n;
        if !sig.get(n).is_some_and(|&i| is_word(&tokens[i], "ADD")) {
            continue;
        }
        n += 1;
        if sig
            .get(n)
            .is_some_and(|&i| is_word(&tokens[i], "CONSTRAINT"))
        {
            n += 2;
        }
        if !sig.get(n).is_some_and(|&i| is_word(&tokens[i], "DEFAULT")) {
            continue;
        }
        let expression_start = n + 1;
        let mut depth = 0i64;
        let mut for_at = None;
        for (m, &i) in sig.iter().enumerate().skip(expression_start) {
            match tokens[i].token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::SemiColon => break,
                _ if depth == 0 && is_word(&tokens[i], "FOR") => {
                    for_at = Some(m);
                    break;
                }
                _ => {}
            }
        }
        let Some(for_at) = for_at else { continue };
        if !sig
            .get(for_at + 1)
            .is_some_and(|&i| matches!(tokens[i].token, Token::Word(_)))
        {
            continue;
        }
        rewrites.push((sig[first_removed], sig[n], sig[for_at], sig[for_at + 1]));
    }
    for (add, default, for_token, column) in rewrites.into_iter().rev() {
        let column_token = tokens[column].clone();
        blank(&mut tokens[for_token]);
        blank(&mut tokens[column]);
        let span = tokens[add].span;
        let with_span = |token: Token| TokenWithSpan { token, span };
        let space = || with_span(Token::Whitespace(Whitespace::Space));
        let replacement = vec![
            with_span(Token::make_keyword("ALTER")),
            space(),
            with_span(Token::make_keyword("COLUMN")),
            space(),
            column_token,
            space(),
            with_span(Token::make_keyword("SET")),
            space(),
            with_span(Token::make_keyword("DEFAULT")),
        ];
        tokens.splice(add..=default, replacement);
    }
}

#[cfg(test)]
mod tests {
    use super::super::split::is_significant;
    use super::*;
    use sqlparser::dialect::MsSqlDialect;
    use sqlparser::tokenizer::Tokenizer;

    fn normalized(sql: &str) -> String {
        let mut tokens = Tokenizer::new(&MsSqlDialect {}, sql)
            .tokenize_with_location()
            .unwrap();
        normalize(&mut tokens);
        let text: String = tokens
            .iter()
            .map(|t| {
                if is_significant(t) {
                    t.token.to_string()
                } else {
                    " ".to_string()
                }
            })
            .collect();
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn storage_clauses_are_removed() {
        let sql = "CREATE TABLE [dbo].[t](\n [id] [int] NOT NULL,\n CONSTRAINT [PK_t] PRIMARY KEY CLUSTERED \n(\n [id] ASC\n)WITH (PAD_INDEX = OFF, IGNORE_DUP_KEY = OFF) ON [PRIMARY]\n) ON [PRIMARY] TEXTIMAGE_ON [PRIMARY]";
        assert_eq!(
            normalized(sql),
            "CREATE TABLE [dbo].[t]( [id] [int] NOT NULL, CONSTRAINT [PK_t] PRIMARY KEY CLUSTERED ( [id] ASC ) )"
        );
    }

    #[test]
    fn referential_actions_are_not_storage() {
        let sql = "ALTER TABLE [o] WITH CHECK ADD CONSTRAINT [FK] FOREIGN KEY([c]) REFERENCES [p] ([id]) ON DELETE CASCADE";
        assert_eq!(
            normalized(sql),
            "ALTER TABLE [o] ADD CONSTRAINT [FK] FOREIGN KEY([c]) REFERENCES [p] ([id]) ON DELETE CASCADE"
        );
    }

    #[test]
    fn clustering_of_an_index_is_removed() {
        assert_eq!(
            normalized("CREATE UNIQUE NONCLUSTERED INDEX [IX] ON [dbo].[t] ([c] ASC) WITH (ONLINE = OFF) ON [PRIMARY]"),
            "CREATE UNIQUE INDEX [IX] ON [dbo].[t] ([c] ASC)"
        );
    }

    #[test]
    fn add_default_for_becomes_alter_column_set_default() {
        assert_eq!(
            normalized("ALTER TABLE [dbo].[t] ADD  CONSTRAINT [DF_t_c]  DEFAULT (getdate()) FOR [c]\nGO\nALTER TABLE t ADD DEFAULT ((0)) FOR [n]"),
            "ALTER TABLE [dbo].[t] ALTER COLUMN [c] SET DEFAULT (getdate()) GO ALTER TABLE t ALTER COLUMN [n] SET DEFAULT ((0))"
        );
    }
}
