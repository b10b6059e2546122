//! Property tests for `$filter` literals: whatever text a caller quotes with
//! [`odata_string`], the simulator's OData parser reads back exactly that text as one
//! string literal (no way to break out of the quotes), and a filter on it matches the
//! record with that value and no other; [`odata_datetime`] is read back as the instant
//! rounded down to the second.

use asoc::{odata_datetime, odata_string};
use chrono::{DateTime, Timelike, Utc};
use proptest::prelude::*;
use sim::asoc::schema::APP_SCHEMA;
use sim::odata::{CmpOp, Expr, Filter, Literal, Record, Value, parse_datetime, parse_filter};
use std::borrow::Cow;

/// An app record whose `Name` is the given text and every other field null.
struct Named(String);

impl Record for Named {
    fn field(&self, index: usize) -> Value<'_> {
        match APP_SCHEMA.get(index) {
            Some(f) if f.name == "Name" => Value::Str(Cow::Borrowed(&self.0)),
            _ => Value::Null,
        }
    }
}

/// Text heavy in the characters that matter to OData: quotes, operators, parentheses.
fn tricky() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z' ()=,]{0,16}",
        Just("x' or Name ne 'y".to_string()),
        Just("''".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn a_quoted_string_reads_back_as_itself(s in tricky()) {
        let src = format!("Name eq {}", odata_string(&s));
        let expr = parse_filter(&src).map_err(|e| TestCaseError::fail(format!("{src}: {e:?}")))?;
        match expr {
            Expr::Compare { op: CmpOp::Eq, left, right, .. } => {
                prop_assert!(matches!(*left, Expr::Field(ref n, _) if n == "Name"));
                prop_assert!(matches!(*right, Expr::Literal(Literal::Str(ref v), _) if *v == s), "{src}");
            }
            other => prop_assert!(false, "{src} parsed as {other:?}"),
        }
    }

    #[test]
    fn a_filter_on_a_quoted_string_matches_only_that_value(s in tricky(), other in tricky()) {
        let filter = Filter::compile(&format!("Name eq {}", odata_string(&s)), APP_SCHEMA)
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert!(filter.matches(&Named(s.clone())));
        prop_assert_eq!(filter.matches(&Named(other.clone())), other == s);
        let contains = Filter::compile(&format!("contains(Name,{})", odata_string(&s)), APP_SCHEMA)
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let around = format!("<{s}>");
        prop_assert!(contains.matches(&Named(around)));
    }

    #[test]
    fn a_datetime_literal_reads_back_rounded_down_to_the_second(secs in 0i64..4_102_444_800, nanos in 0u32..1_000_000_000) {
        let dt = DateTime::<Utc>::from_timestamp(secs, nanos).unwrap_or_default();
        let lit = odata_datetime(dt);
        prop_assert_eq!(parse_datetime(&lit), Some(secs * 1000));
        prop_assert!(dt.with_nanosecond(0).map(|w| w.timestamp_millis()) == Some(secs * 1000));
        let expr = parse_filter(&format!("LastUpdated ge {lit}")).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let read = match expr {
            Expr::Compare { right, .. } => match *right {
                Expr::Literal(Literal::DateTime(ms), _) => Some(ms),
                _ => None,
            },
            _ => None,
        };
        prop_assert_eq!(read, Some(secs * 1000));
    }
}
