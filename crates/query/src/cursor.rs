//! Keyset cursors: where the next page of a sorted findings listing starts.
//!
//! `offset` makes the database read and drop every row before a page: 1–2 s per page deep
//! in a million findings, and for a key no index serves, a sort of the whole listing per
//! page. A cursor holds the page's last row instead: its sort-key values and its id (the
//! tie-break every listing ends with). The next page asks for the rows after that row in
//! the listing's order ([`Cursor::after`]), a condition whose leading key an index can
//! seek to. Clients get the cursor as an opaque token ([`Cursor::encode`]: base64url of
//! JSON) and hand it back unchanged.
//!
//! Listings put empty values last whatever the direction ([`Sort::sql`]); the condition
//! does the same, so a page never repeats or skips a row, also across NULLs and ties.

use crate::fields::{Field, FieldType};
use crate::sort::Sort;
use crate::sql::{Compiled, Dialect, Param, placeholder};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// Why a cursor cannot continue a listing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("not a cursor a findings listing handed out (was it cut or changed?)")]
    Malformed,
    #[error(
        "the cursor continues a listing sorted by '{made_for}', not '{asked}'; start again without it"
    )]
    OtherSort { made_for: String, asked: String },
    #[error("cursors page findings only")]
    NotFindings,
    #[error(
        "the finding this cursor continues after is gone (removed since); start again without it"
    )]
    Gone,
}

/// The most bytes of sort-key values a cursor carries itself. Past it (a 60,000-character
/// name as the sort key made an 80 KB token, and the API's URL limit answered 414) it
/// carries only the row's id, and the store reads the row's values back
/// ([`Cursor::by_reference`]).
pub const MAX_INLINE_VALUES: usize = 512;

/// The Rust type a sort key's value is read back as from PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Text,
    Int,
    Float,
    Time,
}

impl KeyKind {
    pub fn of(field: &Field) -> KeyKind {
        match field.ty {
            FieldType::Text | FieldType::Status | FieldType::Tags => KeyKind::Text,
            FieldType::Int | FieldType::Severity | FieldType::Bool => KeyKind::Int,
            FieldType::Float => KeyKind::Float,
            FieldType::Date => KeyKind::Time,
        }
    }

    fn sql_type(self) -> &'static str {
        match self {
            KeyKind::Text => "text",
            KeyKind::Int => "bigint",
            KeyKind::Float => "float8",
            KeyKind::Time => "timestamptz",
        }
    }

    /// Whether a cursor value can stand for a key of this kind (SQLite keeps times as text).
    fn admits(self, p: &Param, dialect: Dialect) -> bool {
        matches!(
            (self, p, dialect),
            (KeyKind::Text, Param::Text(_), _)
                | (KeyKind::Int, Param::Int(_), _)
                | (KeyKind::Float, Param::Float(_) | Param::Int(_), _)
                | (KeyKind::Time, Param::Time(_), Dialect::Postgres)
                | (KeyKind::Time, Param::Text(_), Dialect::Sqlite)
        )
    }
}

/// The expression a sort key is ordered and compared by: its column, with PostgreSQL's
/// booleans as integers (cursor values are numbers, as SQLite keeps booleans) and its
/// text in bytes (`COLLATE "C"`), as SQLite orders text: under a database's own
/// collation (`en_US.UTF-8`, as managed servers have) `--sort name` gave another order
/// than on SQLite.
pub(crate) fn compared(field: &Field, dialect: Dialect) -> String {
    let col = field.column(dialect);
    match (dialect, field.ty) {
        (Dialect::Postgres, FieldType::Bool) => format!("({col})::int"),
        (Dialect::Postgres, FieldType::Text | FieldType::Status) => {
            format!("({col}) COLLATE \"C\"")
        }
        _ => col.to_string(),
    }
}

/// What a listing selects, after the row's own columns, to read a sort key's value for the
/// next page's cursor: SQLite's value as stored, PostgreSQL's cast to [`KeyKind::of`].
pub fn key_select(field: &Field, dialect: Dialect) -> String {
    let e = compared(field, dialect);
    match dialect {
        Dialect::Sqlite => e,
        Dialect::Postgres => format!("({e})::{}", KeyKind::of(field).sql_type()),
    }
}

/// A sort's signature, e.g. `-severity` or `+name,-cvss`: a cursor continues only the
/// sort it was made for.
pub fn signature(keys: &[Sort]) -> String {
    keys.iter()
        .map(|k| format!("{}{}", if k.descending { '-' } else { '+' }, k.field.name))
        .collect::<Vec<_>>()
        .join(",")
}

/// The rows after a cursor, one condition per stretch of the listing ([`Cursor::levels`]),
/// with the parameters of all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Levels {
    pub sql: Vec<String>,
    pub params: Vec<Param>,
}

fn conjunction(level: &[String], last: String) -> String {
    level
        .iter()
        .cloned()
        .chain(std::iter::once(last))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Where the next page starts: the last row's sort-key values and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort it continues ([`signature`]).
    #[serde(rename = "s")]
    pub sort: String,
    /// The last row's sort-key values, in key order; `None` where empty. Floats travel
    /// as their bits ([`wire`]).
    #[serde(rename = "k", with = "wire")]
    pub keys: Vec<Option<Param>>,
    /// The last row's id.
    #[serde(rename = "i")]
    pub id: i64,
    /// Whether the values were left out for their size: the store reads them back from
    /// the row `id` before it continues ([`Cursor::with_values`]).
    #[serde(rename = "r", default, skip_serializing_if = "std::ops::Not::not")]
    pub by_reference: bool,
}

impl Cursor {
    pub fn new(keys: &[Sort], values: Vec<Option<Param>>, id: i64) -> Cursor {
        let size = serde_json::to_vec(&values).map_or(usize::MAX, |v| v.len());
        let by_reference = size > MAX_INLINE_VALUES;
        Cursor {
            sort: signature(keys),
            keys: if by_reference { Vec::new() } else { values },
            id,
            by_reference,
        }
    }

    /// A cursor by reference given its row's sort-key values, read back by the store;
    /// `None` (the row is gone) is [`CursorError::Gone`].
    pub fn with_values(&self, values: Option<Vec<Option<Param>>>) -> Result<Cursor, CursorError> {
        Ok(Cursor {
            keys: values.ok_or(CursorError::Gone)?,
            by_reference: false,
            ..self.clone()
        })
    }

    /// The token clients hand back.
    pub fn encode(&self) -> String {
        // Serializing strings, numbers and times cannot fail; an empty token would only
        // fail to decode, never continue the wrong listing.
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads a token [`Cursor::encode`] made.
    pub fn decode(token: &str) -> Result<Cursor, CursorError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim())
            .map_err(|_| CursorError::Malformed)?;
        serde_json::from_slice(&bytes).map_err(|_| CursorError::Malformed)
    }

    /// The condition "after this cursor" for a listing sorted by `keys` then `id_column`
    /// ascending, with placeholders numbered from `first`: any of the [`Cursor::levels`],
    /// behind the leading key's bound.
    pub fn after(
        &self,
        keys: &[Sort],
        id_column: &str,
        dialect: Dialect,
        first: usize,
    ) -> Result<Compiled, CursorError> {
        let Levels { sql, mut params } = self.levels(keys, id_column, dialect, first)?;
        let any: Vec<String> = sql.iter().map(|l| format!("({l})")).collect();
        let mut cond = format!("({})", any.join(" OR "));
        // The leading key's bound is implied by the levels, but it is what lets an index
        // start at the cursor instead of reading from the first row.
        if let (Some(key), Some(Some(v))) = (keys.first(), self.keys.first())
            && !key.field.nullable
        {
            let op = if key.descending { "<=" } else { ">=" };
            let e = compared(key.field, dialect);
            let p = placeholder(dialect, first + params.len(), v);
            params.push(v.clone());
            cond = format!("{e} {op} {p} AND {cond}");
        }
        Ok(Compiled { sql: cond, params })
    }

    /// The rows after the cursor as conditions that each select one stretch of the
    /// listing, in its order: first the rows level with the cursor on every key with a
    /// greater id, then those level on all keys but the last and past it on that one,
    /// and so on to the rows past it on the first key. Each is a conjunction an index
    /// can seek to, where their disjunction leaves PostgreSQL reading every row that
    /// shares the cursor's leading value; placeholders are numbered from `first`.
    pub fn levels(
        &self,
        keys: &[Sort],
        id_column: &str,
        dialect: Dialect,
        first: usize,
    ) -> Result<Levels, CursorError> {
        self.check(keys, dialect)?;
        let mut params = Vec::new();
        let mut bind = |p: &Param| {
            let n = first + params.len();
            params.push(p.clone());
            placeholder(dialect, n, p)
        };
        let (mut level, mut out) = (Vec::new(), Vec::new());
        for (key, value) in keys.iter().zip(&self.keys) {
            let e = compared(key.field, dialect);
            match value {
                // Empty values sort last: nothing is past one but on later keys.
                None => level.push(format!("{e} IS NULL")),
                Some(v) => {
                    // Built from the first key inwards, reversed below: past a value come
                    // the values beyond it, then the empty ones.
                    if key.field.nullable {
                        out.push(conjunction(&level, format!("{e} IS NULL")));
                    }
                    let op = if key.descending { "<" } else { ">" };
                    out.push(conjunction(&level, format!("{e} {op} {}", bind(v))));
                    level.push(format!("{e} = {}", bind(v)));
                }
            }
        }
        let last = format!("{id_column} > {}", bind(&Param::Int(self.id)));
        out.push(conjunction(&level, last));
        out.reverse();
        Ok(Levels { sql: out, params })
    }

    /// Whether the cursor continues a listing sorted by `keys` with values of their types.
    fn check(&self, keys: &[Sort], dialect: Dialect) -> Result<(), CursorError> {
        let asked = signature(keys);
        if self.sort != asked {
            return Err(CursorError::OtherSort {
                made_for: self.sort.clone(),
                asked,
            });
        }
        let fits = self.keys.len() == keys.len()
            && keys.iter().zip(&self.keys).all(|(k, v)| {
                v.as_ref()
                    .is_none_or(|p| KeyKind::of(k.field).admits(p, dialect))
            });
        if fits {
            Ok(())
        } else {
            Err(CursorError::Malformed)
        }
    }
}

/// How a cursor's sort-key values are written in its token: as [`Param`] is, but a float
/// as the hex digits of its bits (`{"f64":"3fcbf9…"}`). A float written as a JSON number
/// came back one unit in the last place off (serde_json's default reader is not
/// correctly rounded for 17 significant digits: `0.21856597618876086`), and the next
/// page, comparing the sort key with `=`/`<` to a value no row held, repeated the
/// cursor's row forever or skipped its ties. Bits read back exactly whatever reads them.
/// Tokens that hold a float as a number (`{"float":…}`, before) are still read.
mod wire {
    use crate::sql::Param;
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Value {
        Text(String),
        Int(i64),
        /// The bits of an `f64`, 16 hex digits.
        F64(String),
        /// A float as a JSON number: read only, from tokens made before [`Value::F64`].
        Float(f64),
        Time(DateTime<Utc>),
    }

    pub fn serialize<S: Serializer>(keys: &[Option<Param>], s: S) -> Result<S::Ok, S::Error> {
        keys.iter()
            .map(|k| {
                k.as_ref().map(|p| match p {
                    Param::Text(t) => Value::Text(t.clone()),
                    Param::Int(n) => Value::Int(*n),
                    Param::Float(f) => Value::F64(format!("{:016x}", f.to_bits())),
                    Param::Time(t) => Value::Time(*t),
                })
            })
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Option<Param>>, D::Error> {
        Vec::<Option<Value>>::deserialize(d)?
            .into_iter()
            .map(|k| {
                k.map(|v| {
                    Ok(match v {
                        Value::Text(t) => Param::Text(t),
                        Value::Int(n) => Param::Int(n),
                        Value::F64(bits) => Param::Float(
                            u64::from_str_radix(&bits, 16)
                                .ok()
                                .filter(|_| bits.len() == 16)
                                .map(f64::from_bits)
                                .filter(|f| f.is_finite())
                                .ok_or_else(|| {
                                    serde::de::Error::custom("a float is 16 hex digits")
                                })?,
                        ),
                        Value::Float(f) => Param::Float(f),
                        Value::Time(t) => Param::Time(t),
                    })
                })
                .transpose()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Entity;

    fn keys(text: &str) -> Vec<Sort> {
        Sort::parse_list(Entity::Findings, text).expect("sort")
    }

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let k = keys("-cvss,name");
        let c = Cursor::new(&k, vec![None, Some(Param::Text("XSS é".into()))], 42);
        let token = c.encode();
        assert!(
            token
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'),
            "{token}"
        );
        assert_eq!(Cursor::decode(&token), Ok(c));
        assert_eq!(Cursor::decode("not a cursor!"), Err(CursorError::Malformed));
        assert_eq!(
            Cursor::decode(&token[..token.len() - 4]),
            Err(CursorError::Malformed)
        );
    }

    /// Floats come back bit for bit: decoded as JSON numbers, values of 17 significant
    /// digits came back one unit in the last place off, and paging by `cvss` repeated the
    /// cursor's row on every page (or skipped rows).
    #[test]
    fn floats_round_trip_exactly() {
        let k = keys("-cvss");
        for f in [
            0.21856597618876086,
            0.30000000000000004,
            0.1 + 0.2,
            7.5,
            -0.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            5e-324,
            9.007199254740993e15,
        ] {
            let c = Cursor::new(&k, vec![Some(Param::Float(f))], 157);
            let back = Cursor::decode(&c.encode()).expect("decode");
            match back.keys.as_slice() {
                [Some(Param::Float(g))] => assert_eq!(g.to_bits(), f.to_bits(), "{f:?}"),
                other => panic!("{other:?}"),
            }
        }
        // Many values of 17 digits, as sources write doubles.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = (x >> 11) as f64 / (1u64 << 53) as f64 * 10.0;
            let c = Cursor::new(&k, vec![Some(Param::Float(f))], 1);
            let back = Cursor::decode(&c.encode()).expect("decode");
            assert_eq!(back.keys, vec![Some(Param::Float(f))], "{f:?}");
        }
        // A token of before, a float as a number, still reads; bits that are not 16 hex
        // digits or not a finite float do not.
        let old = URL_SAFE_NO_PAD.encode(r#"{"s":"-cvss","k":[{"float":7.5}],"i":3}"#);
        assert_eq!(
            Cursor::decode(&old).expect("old").keys,
            vec![Some(Param::Float(7.5))]
        );
        for bad in ["\"zz\"", "\"1\"", "\"7ff0000000000000\"", "7.5"] {
            let t =
                URL_SAFE_NO_PAD.encode(format!(r#"{{"s":"-cvss","k":[{{"f64":{bad}}}],"i":3}}"#));
            assert_eq!(Cursor::decode(&t), Err(CursorError::Malformed), "{bad}");
        }
    }

    /// Sort-key values too large for a URL (a 60,000-character name) are left out: the
    /// token carries the row's id, and the store reads the values back.
    #[test]
    fn large_values_are_carried_by_reference() {
        let k = keys("name");
        let long = "x".repeat(60_000);
        let c = Cursor::new(&k, vec![Some(Param::Text(long.clone()))], 9);
        assert!(c.by_reference && c.keys.is_empty());
        assert!(c.encode().len() < 200, "{}", c.encode().len());
        let back = Cursor::decode(&c.encode()).expect("decode");
        assert_eq!(back, c);
        let resolved = back
            .with_values(Some(vec![Some(Param::Text(long))]))
            .expect("resolved");
        assert!(!resolved.by_reference);
        assert!(resolved.after(&k, "f.id", Dialect::Sqlite, 1).is_ok());
        assert_eq!(back.with_values(None), Err(CursorError::Gone));
        // Small values stay in the token, which says nothing of a reference.
        let small = Cursor::new(&k, vec![Some(Param::Text("XSS".into()))], 9);
        assert!(!small.by_reference);
        assert!(
            !String::from_utf8(URL_SAFE_NO_PAD.decode(small.encode()).expect("b64"))
                .expect("utf8")
                .contains("\"r\"")
        );
    }

    #[test]
    fn a_cursor_continues_only_its_own_sort() {
        let c = Cursor::new(&keys("risk"), vec![Some(Param::Int(500))], 7);
        let e = c
            .after(&keys("name"), "f.id", Dialect::Sqlite, 2)
            .expect_err("other sort");
        assert_eq!(
            e,
            CursorError::OtherSort {
                made_for: "-risk".into(),
                asked: "+name".into()
            }
        );
        // A value of the wrong type for its key (a hand-made token) is refused, not bound.
        let forged = Cursor::new(&keys("risk"), vec![Some(Param::Text("x".into()))], 7);
        assert_eq!(
            forged.after(&keys("risk"), "f.id", Dialect::Postgres, 2),
            Err(CursorError::Malformed)
        );
    }

    #[test]
    fn the_condition_seeks_on_the_leading_key_and_keeps_nulls_last() {
        let k = keys("-severity,cvss:asc");
        let c = Cursor::new(&k, vec![Some(Param::Int(6)), Some(Param::Float(7.5))], 9);
        let got = c.after(&k, "f.id", Dialect::Sqlite, 3).expect("after");
        assert_eq!(
            got.sql,
            "f.severity <= ?8 AND ((f.severity = ?4 AND f.cvss = ?6 AND f.id > ?7) OR \
             (f.severity = ?4 AND f.cvss > ?5) OR (f.severity = ?4 AND f.cvss IS NULL) OR \
             (f.severity < ?3))"
        );
        assert_eq!(got.params.len(), 6);
        assert_eq!(got.params[4], Param::Int(9));
        let empty = Cursor::new(&k, vec![Some(Param::Int(6)), None], 9);
        let got = empty
            .after(&k, "f.id", Dialect::Postgres, 1)
            .expect("after");
        assert_eq!(
            got.sql,
            "f.severity <= $4::bigint AND ((f.severity = $2::bigint AND f.cvss IS NULL AND \
             f.id > $3::bigint) OR (f.severity < $1::bigint))"
        );
    }

    #[test]
    fn levels_come_in_the_listing_order() {
        let k = keys("name,cvss:asc");
        let c = Cursor::new(
            &k,
            vec![Some(Param::Text("XSS".into())), Some(Param::Float(7.5))],
            9,
        );
        let got = c.levels(&k, "f.id", Dialect::Sqlite, 1).expect("levels");
        assert_eq!(
            got.sql,
            [
                "f.name = ?2 AND f.cvss = ?4 AND f.id > ?5",
                "f.name = ?2 AND f.cvss > ?3",
                "f.name = ?2 AND f.cvss IS NULL",
                "f.name > ?1",
            ]
        );
    }

    #[test]
    fn booleans_compare_as_numbers_in_postgres() {
        let k = keys("open");
        assert_eq!(
            key_select(k[0].field, Dialect::Postgres),
            format!("(({})::int)::bigint", k[0].field.postgres)
        );
        assert_eq!(key_select(k[0].field, Dialect::Sqlite), k[0].field.sqlite);
    }
}
