//! Native type text → logical [`DataType`], as each catalog spells types.
//!
//! Anything without an exact logical equivalent (unsigned integers, sized
//! timestamps, arrays, enums, `jsonb`, …) stays verbatim as
//! [`DataType::Raw`], so nothing is lost and a round trip re-creates the
//! same native type.

use crate::spec::DatabaseKind;
use tidemark_model::DataType;

/// Maps a native type as the catalog reports it to a logical type.
pub(crate) fn parse(kind: DatabaseKind, native: &str) -> DataType {
    let original = native.trim();
    let lower = original.to_ascii_lowercase();
    let (base, args, suffix) = split(&lower);
    let (base, args) = (base.as_str(), args.as_deref());
    let raw = || DataType::Raw {
        sql: original.to_string(),
    };
    let nums: Option<Vec<u32>> =
        args.and_then(|a| a.split(',').map(|n| n.trim().parse().ok()).collect());
    let first = nums.as_ref().and_then(|n| n.first().copied());
    let second = nums.as_ref().and_then(|n| n.get(1).copied());
    if args.is_some() && nums.is_none() && !matches!(base, "varchar" | "nvarchar" | "varbinary") {
        // enum('a','b'), set(...), geometry(Point,4326) and the like.
        return raw();
    }
    let unsigned = suffix.contains("unsigned") || suffix.contains("zerofill");
    if unsigned {
        return raw();
    }
    // Words after the parentheses belong to the name
    // ("timestamp(3) with time zone").
    let full = if suffix.is_empty() {
        base.to_string()
    } else {
        format!("{base} {suffix}")
    };
    use DatabaseKind as K;
    match (kind, full.as_str()) {
        (_, "boolean" | "bool") => DataType::Boolean,
        (K::SqlServer, "bit") => DataType::Boolean,
        // MySQL spells BOOLEAN as tinyint(1).
        (K::MySql, "tinyint") if first == Some(1) => DataType::Boolean,
        (K::SqlServer | K::MySql, "tinyint") => raw(),
        (_, "smallint" | "int2") => DataType::SmallInt,
        (_, "integer" | "int" | "int4") => DataType::Integer,
        (_, "bigint" | "int8") => DataType::BigInt,
        (_, "numeric" | "decimal") => DataType::Decimal {
            precision: first,
            scale: second,
        },
        (K::MySql, "float") if args.is_none() => DataType::Real,
        (K::SqlServer, "float") if args.is_none() || first == Some(53) => DataType::Double,
        (K::Sqlite, "real" | "double" | "float" | "double precision") if args.is_none() => {
            DataType::Double
        }
        (_, "real" | "float4") if args.is_none() => DataType::Real,
        (_, "double precision" | "double" | "float8") if args.is_none() => DataType::Double,
        (_, "character varying" | "varchar") => match (args, first) {
            (None, _) => DataType::Varchar { length: None },
            (Some(_), Some(n)) => DataType::Varchar { length: Some(n) },
            // varchar(max) on SQL Server.
            (Some(a), None) if a.trim() == "max" => DataType::Text,
            _ => raw(),
        },
        (K::SqlServer, "nvarchar") => match (args, first) {
            (Some(a), None) if a.trim() == "max" => DataType::Text,
            _ => raw(),
        },
        (_, "character" | "char" | "bpchar") => DataType::Char {
            length: first.unwrap_or(1),
        },
        (K::SqlServer, "text" | "ntext") => raw(),
        (_, "text" | "clob") => DataType::Text,
        (K::Postgres, "bytea") => DataType::Binary,
        (K::MySql | K::Sqlite, "blob") => DataType::Binary,
        (K::SqlServer, "varbinary") if args.map(str::trim) == Some("max") => DataType::Binary,
        (K::Databricks, "binary") => DataType::Binary,
        (_, "date") => DataType::Date,
        (_, "time" | "time without time zone") if args.is_none() => DataType::Time,
        (K::SqlServer, "timestamp") => raw(),
        (K::MySql, "timestamp") if args.is_none() => DataType::TimestampTz,
        (K::Databricks, "timestamp") => DataType::TimestampTz,
        (K::Databricks, "timestamp_ntz") => DataType::Timestamp,
        (_, "timestamp" | "timestamp without time zone" | "datetime") if args.is_none() => {
            DataType::Timestamp
        }
        (K::SqlServer, "datetime2") if args.is_none() || first == Some(7) => DataType::Timestamp,
        (K::SqlServer, "datetimeoffset") if args.is_none() || first == Some(7) => {
            DataType::TimestampTz
        }
        (_, "timestamp with time zone" | "timestamptz") if args.is_none() => DataType::TimestampTz,
        (K::SqlServer, "uniqueidentifier") => DataType::Uuid,
        (_, "uuid") => DataType::Uuid,
        (_, "json") => DataType::Json,
        (K::Databricks, "string") => DataType::Text,
        (K::Databricks, "float") => DataType::Real,
        _ => raw(),
    }
}

/// Splits `numeric(10,2)` / `timestamp(3) with time zone` /
/// `int(11) unsigned` into base name, argument text and trailing words, with
/// runs of whitespace collapsed.
fn split(lower: &str) -> (String, Option<String>, String) {
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    match lower.find('(') {
        Some(open) => {
            let close = lower[open..].find(')').map_or(lower.len(), |c| open + c);
            let after = lower.get(close + 1..).unwrap_or("");
            (
                words(&lower[..open]),
                Some(lower[open + 1..close].to_string()),
                words(after),
            )
        }
        None => {
            let all: Vec<&str> = lower.split_whitespace().collect();
            let (modifiers, base): (Vec<&str>, Vec<&str>) = all
                .iter()
                .partition(|w| matches!(**w, "unsigned" | "zerofill" | "signed"));
            (base.join(" "), None, modifiers.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DatabaseKind as K;

    fn p(k: DatabaseKind, s: &str) -> DataType {
        parse(k, s)
    }

    fn raw(s: &str) -> DataType {
        DataType::Raw { sql: s.into() }
    }

    #[test]
    fn postgres_format_type_spellings() {
        assert_eq!(p(K::Postgres, "integer"), DataType::Integer);
        assert_eq!(p(K::Postgres, "bigint"), DataType::BigInt);
        assert_eq!(p(K::Postgres, "character varying(120)"), DataType::Varchar { length: Some(120) });
        assert_eq!(p(K::Postgres, "character varying"), DataType::Varchar { length: None });
        assert_eq!(p(K::Postgres, "character(3)"), DataType::Char { length: 3 });
        assert_eq!(
            p(K::Postgres, "numeric(12,2)"),
            DataType::Decimal { precision: Some(12), scale: Some(2) }
        );
        assert_eq!(p(K::Postgres, "numeric"), DataType::Decimal { precision: None, scale: None });
        assert_eq!(p(K::Postgres, "double precision"), DataType::Double);
        assert_eq!(p(K::Postgres, "timestamp with time zone"), DataType::TimestampTz);
        assert_eq!(p(K::Postgres, "timestamp without time zone"), DataType::Timestamp);
        assert_eq!(p(K::Postgres, "timestamp(3) with time zone"), raw("timestamp(3) with time zone"));
        assert_eq!(p(K::Postgres, "jsonb"), raw("jsonb"));
        assert_eq!(p(K::Postgres, "text[]"), raw("text[]"));
        assert_eq!(p(K::Postgres, "bytea"), DataType::Binary);
    }

    #[test]
    fn mysql_column_type_spellings() {
        assert_eq!(p(K::MySql, "tinyint(1)"), DataType::Boolean);
        assert_eq!(p(K::MySql, "tinyint(4)"), raw("tinyint(4)"));
        assert_eq!(p(K::MySql, "int(11)"), DataType::Integer);
        assert_eq!(p(K::MySql, "int(10) unsigned"), raw("int(10) unsigned"));
        assert_eq!(p(K::MySql, "bigint unsigned"), raw("bigint unsigned"));
        assert_eq!(p(K::MySql, "bigint(20)"), DataType::BigInt);
        assert_eq!(p(K::MySql, "varchar(255)"), DataType::Varchar { length: Some(255) });
        assert_eq!(p(K::MySql, "decimal(10,2)"), DataType::Decimal { precision: Some(10), scale: Some(2) });
        assert_eq!(p(K::MySql, "float"), DataType::Real);
        assert_eq!(p(K::MySql, "double"), DataType::Double);
        assert_eq!(p(K::MySql, "datetime"), DataType::Timestamp);
        assert_eq!(p(K::MySql, "datetime(6)"), raw("datetime(6)"));
        assert_eq!(p(K::MySql, "timestamp"), DataType::TimestampTz);
        assert_eq!(p(K::MySql, "enum('a','b')"), raw("enum('a','b')"));
        assert_eq!(p(K::MySql, "longtext"), raw("longtext"));
    }

    #[test]
    fn sqlite_declared_types() {
        assert_eq!(p(K::Sqlite, "INTEGER"), DataType::Integer);
        assert_eq!(p(K::Sqlite, "VARCHAR(40)"), DataType::Varchar { length: Some(40) });
        assert_eq!(p(K::Sqlite, "REAL"), DataType::Double);
        assert_eq!(p(K::Sqlite, "NUMERIC(10, 2)"), DataType::Decimal { precision: Some(10), scale: Some(2) });
        assert_eq!(p(K::Sqlite, ""), raw(""));
        assert_eq!(p(K::Sqlite, "Whatever"), raw("Whatever"));
    }

    #[test]
    fn sqlserver_type_spellings() {
        assert_eq!(p(K::SqlServer, "bit"), DataType::Boolean);
        assert_eq!(p(K::SqlServer, "nvarchar(max)"), DataType::Text);
        assert_eq!(p(K::SqlServer, "varchar(50)"), DataType::Varchar { length: Some(50) });
        assert_eq!(p(K::SqlServer, "datetime2(7)"), DataType::Timestamp);
        assert_eq!(p(K::SqlServer, "uniqueidentifier"), DataType::Uuid);
        assert_eq!(p(K::SqlServer, "varbinary(max)"), DataType::Binary);
    }
}
