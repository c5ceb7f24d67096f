//! Native column types → logical [`DataType`].
//!
//! A type maps to a logical type only when the two mean the same thing;
//! everything else is kept as [`DataType::Raw`] with the type as sqlparser
//! prints it, so nothing is silently widened or narrowed (MySQL `TINYINT` is
//! not a `SMALLINT`, `INT UNSIGNED` is not an `INTEGER`).

use super::SourceDialect;
use sqlparser::ast::{CharacterLength, DataType as SqlType, ExactNumberInfo, TimezoneInfo};
use tidemark_model::DataType;

/// A column type as the model sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MappedType {
    /// The logical type.
    pub data_type: DataType,
    /// The type itself makes the column an identity (`serial`, `bigserial`).
    pub identity: bool,
}

impl MappedType {
    fn plain(data_type: DataType) -> Self {
        MappedType {
            data_type,
            identity: false,
        }
    }
}

/// Maps a parsed column type.
pub(crate) fn map_type(dialect: SourceDialect, ty: &SqlType) -> MappedType {
    use SqlType as T;
    let raw = || DataType::Raw {
        sql: ty.to_string(),
    };
    let data_type = match ty {
        T::Boolean | T::Bool => DataType::Boolean,
        T::SmallInt(_) | T::Int2(_) => DataType::SmallInt,
        T::Int(_) | T::Int4(_) | T::Integer(_) => DataType::Integer,
        T::BigInt(_) | T::Int8(_) => DataType::BigInt,
        // MySQL's only boolean is `tinyint(1)`; any other tinyint is a byte.
        T::TinyInt(Some(1)) if dialect == SourceDialect::Mysql => DataType::Boolean,
        T::Numeric(info) | T::Decimal(info) | T::Dec(info) => decimal(info),
        T::Real | T::Float4 => DataType::Real,
        T::Float8 | T::DoublePrecision | T::Double(_) => DataType::Double,
        T::Float(info) => float(dialect, precision_of(info)),
        T::Varchar(len) | T::Nvarchar(len) | T::CharacterVarying(len) | T::CharVarying(len) => {
            match len {
                None | Some(CharacterLength::Max) => DataType::Varchar { length: None },
                Some(CharacterLength::IntegerLength { length, .. }) => match u32::try_from(*length)
                {
                    Ok(length) => DataType::Varchar {
                        length: Some(length),
                    },
                    Err(_) => raw(),
                },
            }
        }
        T::Char(len) | T::Character(len) => match len {
            None => DataType::Char { length: 1 },
            Some(CharacterLength::IntegerLength { length, .. }) => match u32::try_from(*length) {
                Ok(length) => DataType::Char { length },
                Err(_) => raw(),
            },
            Some(CharacterLength::Max) => raw(),
        },
        T::Text | T::MediumText | T::LongText => DataType::Text,
        T::Clob(_) | T::CharacterLargeObject(_) | T::CharLargeObject(_) => DataType::Text,
        T::Bytea
        | T::Blob(_)
        | T::MediumBlob
        | T::LongBlob
        | T::TinyBlob
        | T::Binary(_)
        | T::Varbinary(_) => DataType::Binary,
        T::Bit(None) if dialect == SourceDialect::SqlServer => DataType::Boolean,
        T::Date => DataType::Date,
        T::Time(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => DataType::Time,
        // T-SQL `timestamp` is rowversion, an 8-byte counter, not a time.
        T::Timestamp(_, _) if dialect == SourceDialect::SqlServer => raw(),
        // MySQL's TIMESTAMP stores an instant (DATETIME is the plain one), as
        // the MySQL dialect and its introspection read it.
        T::Timestamp(_, _) if dialect == SourceDialect::Mysql => DataType::TimestampTz,
        T::Timestamp(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => DataType::Timestamp,
        T::Timestamp(_, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz) => DataType::TimestampTz,
        T::Datetime(_) => DataType::Timestamp,
        T::Uuid => DataType::Uuid,
        T::JSON | T::JSONB => DataType::Json,
        T::Custom(name, args) => {
            let parts: Vec<&str> = name
                .0
                .iter()
                .filter_map(|p| p.as_ident().map(|i| i.value.as_str()))
                .collect();
            let base = match parts.as_slice() {
                [one] => Some(*one),
                // System schemas qualify built-in types in dumps.
                [schema, one]
                    if schema.eq_ignore_ascii_case("pg_catalog")
                        || schema.eq_ignore_ascii_case("sys") =>
                {
                    Some(*one)
                }
                _ => None,
            };
            match base.and_then(|b| custom(dialect, &b.to_ascii_lowercase(), args)) {
                Some(mapped) => return mapped,
                None => raw(),
            }
        }
        _ => raw(),
    };
    MappedType::plain(data_type)
}

fn decimal(info: &ExactNumberInfo) -> DataType {
    let (precision, scale) = match info {
        ExactNumberInfo::None => (None, None),
        ExactNumberInfo::Precision(p) => (u32::try_from(*p).ok(), None),
        ExactNumberInfo::PrecisionAndScale(p, s) => {
            (u32::try_from(*p).ok(), u32::try_from(*s).ok())
        }
    };
    DataType::Decimal { precision, scale }
}

fn precision_of(info: &ExactNumberInfo) -> Option<u64> {
    match info {
        ExactNumberInfo::None => None,
        ExactNumberInfo::Precision(p) | ExactNumberInfo::PrecisionAndScale(p, _) => Some(*p),
    }
}

/// `float(p)` is single precision up to 24 binary digits everywhere; a bare
/// `FLOAT` is single precision on MySQL and double elsewhere.
fn float(dialect: SourceDialect, precision: Option<u64>) -> DataType {
    match precision {
        Some(p) if p <= 24 => DataType::Real,
        Some(_) => DataType::Double,
        None if dialect == SourceDialect::Mysql => DataType::Real,
        None => DataType::Double,
    }
}

/// Types sqlparser leaves as names: PostgreSQL's serials and `timestamptz`,
/// T-SQL's own types, and any type written in brackets (`[int]`).
fn custom(dialect: SourceDialect, name: &str, args: &[String]) -> Option<MappedType> {
    let numbers: Option<Vec<u32>> = args.iter().map(|a| a.trim().parse().ok()).collect();
    let is_max = args.len() == 1 && args[0].trim().eq_ignore_ascii_case("max");
    let identity = |data_type| MappedType {
        data_type,
        identity: true,
    };
    let data_type = match (name, numbers.as_deref()) {
        ("serial" | "serial4", _) => return Some(identity(DataType::Integer)),
        ("bigserial" | "serial8", _) => return Some(identity(DataType::BigInt)),
        ("smallserial" | "serial2", _) => return Some(identity(DataType::SmallInt)),
        ("bool" | "boolean", _) => DataType::Boolean,
        ("bit", Some([])) if dialect == SourceDialect::SqlServer => DataType::Boolean,
        ("tinyint", Some([1])) if dialect == SourceDialect::Mysql => DataType::Boolean,
        ("smallint" | "int2", _) => DataType::SmallInt,
        ("int" | "integer" | "int4", _) => DataType::Integer,
        ("bigint" | "int8", _) => DataType::BigInt,
        ("decimal" | "numeric", Some(n)) => DataType::Decimal {
            precision: n.first().copied(),
            scale: n.get(1).copied(),
        },
        ("real" | "float4", _) => DataType::Real,
        ("float8" | "double precision", _) => DataType::Double,
        ("float", Some(n)) => float(dialect, n.first().map(|&p| u64::from(p))),
        ("varchar" | "nvarchar" | "character varying", Some(n)) => DataType::Varchar {
            length: n.first().copied(),
        },
        ("varchar" | "nvarchar", None) if is_max => DataType::Varchar { length: None },
        ("char" | "nchar" | "character", Some(n)) => DataType::Char {
            length: n.first().copied().unwrap_or(1),
        },
        ("text" | "ntext" | "mediumtext" | "longtext" | "clob", _) => DataType::Text,
        ("bytea" | "blob" | "mediumblob" | "longblob" | "tinyblob", _) => DataType::Binary,
        ("binary" | "varbinary", Some(_)) => DataType::Binary,
        ("varbinary", None) if is_max => DataType::Binary,
        ("date", Some([])) => DataType::Date,
        ("time", Some([] | [_])) => DataType::Time,
        ("timestamp", _) if dialect == SourceDialect::SqlServer => return None,
        ("timestamp", Some([] | [_])) if dialect == SourceDialect::Mysql => DataType::TimestampTz,
        ("timestamp" | "datetime" | "datetime2", Some([] | [_])) => DataType::Timestamp,
        ("timestamptz" | "datetimeoffset", Some([] | [_])) => DataType::TimestampTz,
        ("uuid" | "uniqueidentifier", Some([])) => DataType::Uuid,
        ("json" | "jsonb", Some([])) => DataType::Json,
        _ => return None,
    };
    Some(MappedType::plain(data_type))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::{MsSqlDialect, MySqlDialect, PostgreSqlDialect};
    use sqlparser::parser::Parser;

    fn parse_type(dialect: SourceDialect, ty: &str) -> MappedType {
        let sql = format!("CREATE TABLE t (c {ty})");
        let parsed = match dialect {
            SourceDialect::Mysql => Parser::parse_sql(&MySqlDialect {}, &sql),
            SourceDialect::SqlServer => Parser::parse_sql(&MsSqlDialect {}, &sql),
            _ => Parser::parse_sql(&PostgreSqlDialect {}, &sql),
        }
        .unwrap();
        match &parsed[0] {
            sqlparser::ast::Statement::CreateTable(t) => map_type(dialect, &t.columns[0].data_type),
            other => panic!("not a table: {other}"),
        }
    }

    fn check(dialect: SourceDialect, ty: &str, expected: DataType, identity: bool) {
        assert_eq!(
            parse_type(dialect, ty),
            MappedType {
                data_type: expected,
                identity
            },
            "{dialect} {ty}"
        );
    }

    #[test]
    fn postgres_types() {
        use DataType as D;
        let pg = SourceDialect::Postgres;
        check(pg, "int4", D::Integer, false);
        check(pg, "int2", D::SmallInt, false);
        check(pg, "int8", D::BigInt, false);
        check(pg, "serial", D::Integer, true);
        check(pg, "bigserial", D::BigInt, true);
        check(pg, "smallserial", D::SmallInt, true);
        check(
            pg,
            "numeric",
            D::Decimal {
                precision: None,
                scale: None,
            },
            false,
        );
        check(
            pg,
            "numeric(12)",
            D::Decimal {
                precision: Some(12),
                scale: None,
            },
            false,
        );
        check(
            pg,
            "decimal(10,2)",
            D::Decimal {
                precision: Some(10),
                scale: Some(2),
            },
            false,
        );
        check(pg, "float4", D::Real, false);
        check(pg, "float", D::Double, false);
        check(pg, "float(10)", D::Real, false);
        check(pg, "double precision", D::Double, false);
        check(
            pg,
            "character varying(40)",
            D::Varchar { length: Some(40) },
            false,
        );
        check(pg, "character varying", D::Varchar { length: None }, false);
        check(pg, "char(3)", D::Char { length: 3 }, false);
        check(pg, "character", D::Char { length: 1 }, false);
        check(pg, "bytea", D::Binary, false);
        check(pg, "timestamp(3)", D::Timestamp, false);
        check(pg, "timestamp with time zone", D::TimestampTz, false);
        check(pg, "timestamptz", D::TimestampTz, false);
        check(pg, "time", D::Time, false);
        check(pg, "jsonb", D::Json, false);
        check(pg, "json", D::Json, false);
        check(pg, "bool", D::Boolean, false);
        check(pg, "boolean", D::Boolean, false);
        check(pg, "integer", D::Integer, false);
        check(pg, "smallint", D::SmallInt, false);
        check(pg, "bigint", D::BigInt, false);
        check(pg, "real", D::Real, false);
        check(pg, "float8", D::Double, false);
        check(pg, "varchar(10)", D::Varchar { length: Some(10) }, false);
        check(pg, "text", D::Text, false);
        check(pg, "date", D::Date, false);
        check(pg, "uuid", D::Uuid, false);
        check(
            pg,
            "bit(3)",
            D::Raw {
                sql: "BIT(3)".into(),
            },
            false,
        );
        check(
            pg,
            "int4range",
            D::Raw {
                sql: "int4range".into(),
            },
            false,
        );
        check(
            pg,
            "text[]",
            D::Raw {
                sql: "TEXT[]".into(),
            },
            false,
        );
        check(
            pg,
            "time with time zone",
            D::Raw {
                sql: "TIME WITH TIME ZONE".into(),
            },
            false,
        );
        check(
            pg,
            "public.citext",
            D::Raw {
                sql: "public.citext".into(),
            },
            false,
        );
    }

    #[test]
    fn mysql_types() {
        use DataType as D;
        let my = SourceDialect::Mysql;
        check(my, "tinyint(1)", D::Boolean, false);
        check(
            my,
            "tinyint",
            D::Raw {
                sql: "TINYINT".into(),
            },
            false,
        );
        check(my, "int(11)", D::Integer, false);
        check(
            my,
            "int unsigned",
            D::Raw {
                sql: "INT UNSIGNED".into(),
            },
            false,
        );
        check(my, "float", D::Real, false);
        check(my, "double", D::Double, false);
        check(my, "mediumtext", D::Text, false);
        check(my, "longblob", D::Binary, false);
        check(my, "varbinary(16)", D::Binary, false);
        check(my, "datetime(6)", D::Timestamp, false);
        check(my, "json", D::Json, false);
        check(my, "longtext", D::Text, false);
        check(my, "binary(16)", D::Binary, false);
        check(my, "blob", D::Binary, false);
        check(my, "datetime", D::Timestamp, false);
        check(my, "timestamp", D::TimestampTz, false);
        check(
            my,
            "bit(1)",
            D::Raw {
                sql: "BIT(1)".into(),
            },
            false,
        );
        check(
            my,
            "enum('a','b')",
            D::Raw {
                sql: "ENUM('a', 'b')".into(),
            },
            false,
        );
    }

    #[test]
    fn sql_server_types() {
        use DataType as D;
        let ms = SourceDialect::SqlServer;
        check(ms, "bit", D::Boolean, false);
        check(ms, "[int]", D::Integer, false);
        check(ms, "nvarchar(max)", D::Varchar { length: None }, false);
        check(
            ms,
            "[nvarchar](200)",
            D::Varchar { length: Some(200) },
            false,
        );
        check(ms, "nchar(2)", D::Char { length: 2 }, false);
        check(ms, "datetime2(7)", D::Timestamp, false);
        check(ms, "datetimeoffset", D::TimestampTz, false);
        check(ms, "uniqueidentifier", D::Uuid, false);
        check(ms, "varbinary(max)", D::Binary, false);
        check(ms, "ntext", D::Text, false);
        check(ms, "nvarchar(40)", D::Varchar { length: Some(40) }, false);
        check(ms, "datetime", D::Timestamp, false);
        check(ms, "float", D::Double, false);
        check(ms, "clob", D::Text, false);
        check(
            ms,
            "timestamp",
            D::Raw {
                sql: "TIMESTAMP".into(),
            },
            false,
        );
        check(
            ms,
            "money",
            D::Raw {
                sql: "money".into(),
            },
            false,
        );
    }
}
