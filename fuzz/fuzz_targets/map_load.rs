//! The map loader: TOML text (before the first NUL byte) is loaded as a map; when it loads,
//! the JSON after the NUL byte is mapped as an asset and as a finding. Errors are fine,
//! panics are not; a loaded map must also survive `to_toml` → `from_toml`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use model::Map;

fuzz_target!(|data: &[u8]| {
    let (toml_part, json_part) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(toml_part) else {
        return;
    };
    let Ok(map) = Map::from_toml(text, "fuzz.toml") else {
        return;
    };
    let again = Map::from_toml(&map.to_toml(), "again.toml");
    assert!(
        again.is_ok(),
        "a loaded map did not reload from its own TOML: {again:?}"
    );
    let record: serde_json::Value = serde_json::from_slice(json_part).unwrap_or_else(|_| {
        serde_json::json!({"Id": "i1", "Severity": "High", "Status": "Open", "ApplicationId": "a1"})
    });
    let _ = map.apply_asset(&record);
    let _ = map.apply_finding(&record, "a1");
});
