//! PostgreSQL's rules for naming unnamed constraints and indexes.
//!
//! Following them exactly means a schema imported from a file and the same
//! schema read from a live PostgreSQL database agree on every name, so drift
//! checks do not report renamed constraints that were never renamed.

use std::collections::BTreeSet;

/// PostgreSQL's identifier limit in bytes (`NAMEDATALEN - 1`).
const MAX_NAME_BYTES: usize = 63;

/// `makeObjectName`: `name1[_name2]_label`, cut to 63 bytes by shortening
/// the longer of the two names first, never inside a character.
fn make_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = label.len() + 1 + usize::from(name2.is_some());
    let available = MAX_NAME_BYTES.saturating_sub(overhead);
    let mut len1 = name1.len();
    let mut len2 = name2.map_or(0, str::len);
    while len1 + len2 > available {
        if len1 > len2 {
            len1 -= 1;
        } else {
            len2 -= 1;
        }
    }
    let mut out = clip(name1, len1).to_string();
    if let Some(name2) = name2 {
        out.push('_');
        out.push_str(clip(name2, len2));
    }
    out.push('_');
    out.push_str(label);
    out
}

/// The longest prefix of `s` of at most `bytes` bytes that ends on a
/// character boundary.
fn clip(s: &str, bytes: usize) -> &str {
    let mut end = bytes.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The names already taken in one schema. PostgreSQL keeps tables, indexes
/// and constraints in one namespace per schema and picks a free name by
/// appending a counter to the label (`orders_email_key1`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Namespace {
    taken: BTreeSet<String>,
}

impl Namespace {
    /// Records a name given explicitly (or found in the project).
    pub fn take(&mut self, name: &str) {
        self.taken.insert(name.to_string());
    }

    /// `ChooseConstraintName` / `ChooseRelationName`: the first free name of
    /// `name1_name2_label`, `name1_name2_label1`, …; the chosen name is taken.
    pub fn choose(&mut self, name1: &str, name2: Option<&str>, label: &str) -> String {
        let mut pass = 0u32;
        loop {
            let modified = if pass == 0 {
                label.to_string()
            } else {
                format!("{label}{pass}")
            };
            let name = make_object_name(name1, name2, &modified);
            if self.taken.insert(name.clone()) {
                return name;
            }
            pass += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_joined_with_underscores() {
        assert_eq!(make_object_name("orders", None, "pkey"), "orders_pkey");
        assert_eq!(
            make_object_name("order_items", Some("order_id_product_id"), "key"),
            "order_items_order_id_product_id_key"
        );
    }

    #[test]
    fn long_names_shorten_the_longer_part_first() {
        let table = "t".repeat(40);
        let cols = "c".repeat(40);
        let name = make_object_name(&table, Some(&cols), "fkey");
        assert_eq!(name.len(), 63);
        // 63 - "_fkey" - "_" = 57 bytes for both names, split 29 / 28.
        assert_eq!(name, format!("{}_{}_fkey", "t".repeat(29), "c".repeat(28)));
    }

    #[test]
    fn multibyte_names_are_never_cut_inside_a_character() {
        // 90 bytes; 58 are available, which would end inside the 20th "€".
        let table = "€".repeat(30);
        let name = make_object_name(&table, None, "pkey");
        assert_eq!(name, format!("{}_pkey", "€".repeat(19)));
    }

    #[test]
    fn taken_names_get_a_counter_on_the_label() {
        let mut ns = Namespace::default();
        ns.take("customers_email_key");
        assert_eq!(
            ns.choose("customers", Some("email"), "key"),
            "customers_email_key1"
        );
        assert_eq!(
            ns.choose("customers", Some("email"), "key"),
            "customers_email_key2"
        );
        assert_eq!(ns.choose("customers", None, "check"), "customers_check");
    }
}
