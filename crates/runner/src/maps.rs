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
    Map::from_toml(&text, &format!("map '{name}'")).map_err(|e| RunnerError::Config(e.to_string()))
}

/// The names of every map, the built-in one first.
pub fn names(store: &dyn Store) -> Result<Vec<String>, RunnerError> {
    let mut names = vec![DEFAULT.to_string()];
    names.extend(store.map_names()?.into_iter().filter(|n| n != DEFAULT));
    Ok(names)
}
