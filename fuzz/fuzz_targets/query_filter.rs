//! The filter language: any text must parse or give a column error; a parsed filter must
//! compile for both dialects, print to text that parses back to the same expression
//! (columns aside), and `--sort` lists must parse or fail cleanly.
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use query::{Cond, Dialect, Entity, Expr, Filter, Sort};

/// The expression with every column set to 0.
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

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = DateTime::<Utc>::from_timestamp(1_780_000_000, 0).unwrap_or_default();
    for entity in [Entity::Findings, Entity::Assets] {
        if let Ok(f) = Filter::parse_at(entity, text, now) {
            let _ = f.compile(Dialect::Sqlite, 1);
            let _ = f.compile(Dialect::Postgres, 1);
            let printed = f.expr.to_string();
            match Filter::parse_at(entity, &printed, now) {
                Ok(back) => assert_eq!(
                    strip(&back.expr),
                    strip(&f.expr),
                    "{text:?} printed as {printed:?} parsed differently"
                ),
                Err(e) => panic!("{text:?} printed as {printed:?} does not parse: {e}"),
            }
        }
        let _ = Sort::parse_list(entity, text);
    }
});
