//! The simulator's OData parser: `$filter` (parse, bind to both schemas, evaluate on a
//! record), `$orderby` and `$select`. Any input must give `Ok` or a positioned error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim::asoc::schema::{APP_SCHEMA, ISSUE_SCHEMA};
use sim::odata::{
    FieldDef, FieldType, Filter, Record, Value, parse_filter, parse_orderby, parse_select,
};
use std::borrow::Cow;

/// A record with one plausible value per schema field.
struct Sample(&'static [FieldDef]);

impl Record for Sample {
    fn field(&self, index: usize) -> Value<'_> {
        match self.0.get(index).map(|f| f.ty) {
            Some(FieldType::String) => Value::Str(Cow::Borrowed("Shop 'main' app")),
            Some(FieldType::Int) => Value::Int(79),
            Some(FieldType::Decimal) => Value::Decimal(7.5),
            Some(FieldType::Bool) => Value::Bool(true),
            Some(FieldType::DateTime) => Value::DateTime(1_735_689_600_000),
            Some(FieldType::Guid) => Value::Guid(0x1234_5678),
            Some(FieldType::Enum(names)) => Value::Enum(0, names),
            Some(FieldType::Json) => Value::Json(serde_json::json!({"a": [1]})),
            None => Value::Null,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_filter(src);
    for schema in [APP_SCHEMA, ISSUE_SCHEMA] {
        if let Ok(f) = Filter::compile(src, schema) {
            let _ = f.matches(&Sample(schema));
            let _ = f.matches(&Nulls);
        }
        let _ = parse_orderby(src, schema);
        let _ = parse_select(src, schema);
    }
});

/// A record whose every field is null.
struct Nulls;

impl Record for Nulls {
    fn field(&self, _index: usize) -> Value<'_> {
        Value::Null
    }
}
