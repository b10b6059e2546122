//! Finding the map a connector uses: the built-in `default`, or a saved one.

use crate::RunnerError;
use model::Map;
use store::Store;

/// The name of the built-in map.
pub const DEFAULT: &str = "default";

/// Loads a map by name.
pub fn load(store: &dyn Store, name: &str) -> Result<Map, RunnerError> {
    if name == DEFAULT {
        return Ok(Map::default_map());
    }
    let text = store.map_text(name)?.ok_or_else(|| {
        RunnerError::Config(format!("map '{name}' does not exist (see `map list`)"))
    })?;
    let (map, notes) = Map::from_stored_toml(&text, &format!("'{name}'"))
        .map_err(|e| RunnerError::Config(e.to_string()))?;
    for note in notes {
        tracing::warn!(
            "map {note}; the map is used as earlier versions used it (the option left out) \
             until it is fixed: `appscan-bridge map edit {name}`"
        );
    }
    Ok(map)
}

/// The names of every map, the built-in one first.
pub fn names(store: &dyn Store) -> Result<Vec<String>, RunnerError> {
    let mut names = vec![DEFAULT.to_string()];
    names.extend(store.map_names()?.into_iter().filter(|n| n != DEFAULT));
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map an earlier version saved with options later versions refuse in a new map
    /// still loads, as that version used it: it stopped the connectors using it after an
    /// upgrade, and `map show`/`edit` could not open it to fix it.
    #[test]
    fn a_stored_map_with_options_now_refused_still_loads() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = store::SqliteStore::open(&dir.path().join("s.sqlite3")).expect("store");
        let text = model::map::DEFAULT_MAP_TOML
            .replacen("name = \"default\"", "name = \"sport\"", 1)
            .replacen(
                "source = [\"Port\"]",
                "source = [\"Port\"]\nsuffix = { Port = \"Scheme\" }",
                1,
            );
        assert!(
            Map::from_toml(&text, "sport.toml").is_err(),
            "refused when new"
        );
        store.save_map("sport", &text).expect("save");
        let map = load(&store, "sport").expect("loads");
        let port = map.finding.iter().find(|r| r.target == "findingPort");
        assert!(port.is_some_and(|r| r.suffix.is_empty()), "{port:?}");
    }
}
