//! Property tests: printing a filter and parsing the text back gives the same expression
//! (parse ∘ print = id, columns aside), for generated expressions over every field of both
//! entities, and printing is stable for whatever text parses.

use chrono::{DateTime, Duration, Utc};
use model::{Severity, Status};
use proptest::prelude::*;
use query::{Cond, Entity, Expr, Field, FieldType, Op, Value};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default()
}

/// The expression with every column set to 0, for comparing shapes and values.
fn strip(e: &Expr) -> Expr {
    match e {
        Expr::Cond(c) => Expr::Cond(Cond {
            column: 0,
            ..c.clone()
        }),
        Expr::And(a, b) => Expr::And(Box::new(strip(a)), Box::new(strip(b))),
        Expr::Or(a, b) => Expr::Or(Box::new(strip(a)), Box::new(strip(b))),
        Expr::Not(a) => Expr::Not(Box::new(strip(a))),
    }
}

fn parse(entity: Entity, text: &str) -> Expr {
    match query::parser::parse(entity, text, now()) {
        Ok(e) => e,
        Err(e) => panic!("printed text does not parse: {}", e.caret(text)),
    }
}

fn any_op() -> impl Strategy<Value = Op> {
    prop::sample::select(vec![Op::Eq, Op::Ne, Op::Gt, Op::Ge, Op::Lt, Op::Le])
}

fn eq_op() -> impl Strategy<Value = Op> {
    prop::sample::select(vec![Op::Eq, Op::Ne])
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..4_102_444_800, 0u32..1_000_000_000)
        .prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap_or_default())
}

fn time_value() -> BoxedStrategy<Value> {
    prop_oneof![
        instant().prop_map(|t| Value::Time { from: t, to: t }),
        (0i64..50_000).prop_map(|d| {
            let from = DateTime::from_timestamp(d * 86_400, 0).unwrap_or_default();
            Value::Time {
                from,
                to: from + Duration::days(1),
            }
        }),
    ]
    .boxed()
}

fn status_value() -> BoxedStrategy<Value> {
    let open: Vec<Status> = Status::ALL.into_iter().filter(|s| s.is_open()).collect();
    let closed: Vec<Status> = Status::ALL.into_iter().filter(|s| !s.is_open()).collect();
    prop_oneof![
        prop::sample::select(Status::ALL.to_vec()).prop_map(|s| Value::Status(vec![s])),
        Just(Value::Status(open)),
        Just(Value::Status(closed)),
    ]
    .boxed()
}

/// A value of the field's type; `ordering` rules out `*`.
fn value_for(ty: FieldType, ordering: bool) -> BoxedStrategy<Value> {
    let star = if ordering { 0 } else { 1 };
    match ty {
        FieldType::Text | FieldType::Tags => prop_oneof![
            8 => any::<String>().prop_map(Value::Text),
            8 => "[a-zA-Z0-9 *\"'\\\\(),:<>=!-]{0,12}".prop_map(Value::Text),
            star => Just(Value::Any),
        ]
        .boxed(),
        FieldType::Int => prop_oneof![
            8 => any::<i64>().prop_map(Value::Int),
            star => Just(Value::Any),
        ]
        .boxed(),
        FieldType::Float => prop_oneof![
            8 => any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(Value::Float),
            star => Just(Value::Any),
        ]
        .boxed(),
        FieldType::Date => prop_oneof![8 => time_value(), star => Just(Value::Any)].boxed(),
        FieldType::Severity => prop_oneof![
            8 => prop::sample::select(Severity::ALL.to_vec()).prop_map(Value::Severity),
            star => Just(Value::Any),
        ]
        .boxed(),
        FieldType::Status => prop_oneof![8 => status_value(), star => Just(Value::Any)].boxed(),
        FieldType::Bool => prop_oneof![
            8 => any::<bool>().prop_map(Value::Bool),
            star => Just(Value::Any),
        ]
        .boxed(),
    }
}

/// Operators the type allows.
fn op_for(ty: FieldType) -> BoxedStrategy<Op> {
    match ty {
        FieldType::Text | FieldType::Tags | FieldType::Status | FieldType::Bool => eq_op().boxed(),
        _ => any_op().boxed(),
    }
}

fn cond(entity: Entity) -> impl Strategy<Value = Expr> {
    prop::sample::select(entity.fields().iter().collect::<Vec<&'static Field>>()).prop_flat_map(
        |field| {
            op_for(field.ty).prop_flat_map(move |op| {
                let n = if op.is_ordering() { 1..2 } else { 1..4 };
                prop::collection::vec(value_for(field.ty, op.is_ordering()), n).prop_map(
                    move |values| {
                        Expr::Cond(Cond {
                            field,
                            op,
                            values,
                            column: 0,
                        })
                    },
                )
            })
        },
    )
}

fn expr(entity: Entity) -> impl Strategy<Value = Expr> {
    cond(entity).prop_recursive(5, 32, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Expr::Not(Box::new(a))),
        ]
    })
}

fn entity() -> impl Strategy<Value = Entity> {
    prop::sample::select(vec![Entity::Findings, Entity::Assets])
}

/// Text made of the language's own pieces, so a good share of it parses.
fn filterish() -> impl Strategy<Value = String> {
    let pieces = vec![
        "severity",
        "status",
        "app",
        "cwe",
        "lastFound",
        "name",
        "risk",
        "cvss",
        ":",
        ">=",
        "<",
        "!=",
        "and",
        "or",
        "not",
        "!",
        "(",
        ")",
        ",",
        " ",
        " ",
        "high",
        "NEW",
        "open",
        "\"a b\"",
        "'x\\'y'",
        "*",
        "79",
        "-7d",
        "2026-01-01",
        "2026-01-01T10:00:00+02:00",
        "true",
        "1.5",
        "Shop*",
    ];
    prop::collection::vec(prop::sample::select(pieces), 1..14).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn parse_of_print_is_identity((entity, e) in entity().prop_flat_map(|en| (Just(en), expr(en)))) {
        let text = e.to_string();
        let back = parse(entity, &text);
        prop_assert_eq!(strip(&back), strip(&e), "printed as {}", text);
    }

    #[test]
    fn printing_parsed_text_is_stable(entity in entity(), text in filterish()) {
        if let Ok(e) = query::parser::parse(entity, &text, now()) {
            let printed = e.to_string();
            let back = parse(entity, &printed);
            prop_assert_eq!(strip(&back), strip(&e), "{} printed as {}", text, printed);
            prop_assert_eq!(back.to_string(), printed);
        }
    }
}
