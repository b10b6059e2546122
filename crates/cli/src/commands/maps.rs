//! `map list|show|clone|set|edit|validate|import|remove|targets`.

use super::Ctx;
use crate::args::MapCommand;
use crate::output;
use anyhow::{Context, bail};
use model::Map;
use model::map::targets::{Kind, TARGETS};
use runner::maps::{self, DEFAULT};
use std::path::Path;
use std::process::ExitCode;
use store::Connector;

fn load(ctx: &Ctx, name: &str) -> anyhow::Result<Map> {
    Ok(maps::load(ctx.runner.store.as_ref(), name)?)
}

fn save(ctx: &Ctx, map: &Map) -> anyhow::Result<()> {
    if map.name == DEFAULT {
        bail!(
            "the default map is built in and cannot be changed; clone it: map clone default NAME"
        );
    }
    ctx.runner.store.save_map(&map.name, &map.to_toml())?;
    Ok(())
}

pub fn list(ctx: &Ctx, json: bool) -> anyhow::Result<ExitCode> {
    let names = maps::names(ctx.runner.store.as_ref())?;
    let connectors = ctx.runner.store.connectors()?;
    print_list(&names, &connectors, json)
}

/// `map list` and `map show default` where nothing was stored yet (a first look at a new
/// install): the built-in map, without creating a store to show it. `None` for the map
/// commands that need one.
pub fn without_a_store(command: &MapCommand) -> anyhow::Result<Option<ExitCode>> {
    match command {
        MapCommand::List(a) => print_list(&[DEFAULT.to_string()], &[], a.json).map(Some),
        MapCommand::Show { name } if name == DEFAULT => {
            print!("{}", model::map::DEFAULT_MAP_TOML);
            Ok(Some(ExitCode::SUCCESS))
        }
        MapCommand::Remove { name } => refuse_removing_the_default(name).map(|()| None),
        _ => Ok(None),
    }
}

fn print_list(names: &[String], connectors: &[Connector], json: bool) -> anyhow::Result<ExitCode> {
    let used_by = |name: &str| -> Vec<String> {
        connectors
            .iter()
            .filter(|c| {
                c.settings
                    .get("map")
                    .and_then(|m| m.as_str())
                    .unwrap_or(DEFAULT)
                    == name
            })
            .map(|c| c.name.clone())
            .collect()
    };
    if json {
        let v: Vec<_> = names
            .iter()
            .map(
                |n| serde_json::json!({"name": n, "built_in": n == DEFAULT, "used_by": used_by(n)}),
            )
            .collect();
        output::json(&v)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = output::table(&["map", "built in", "used by"]);
    for n in names {
        t.add_row(vec![
            n.clone(),
            (n == DEFAULT).to_string(),
            used_by(n).join(", "),
        ]);
    }
    output::print_table(&t);
    Ok(ExitCode::SUCCESS)
}

pub fn show(ctx: &Ctx, name: &str) -> anyhow::Result<ExitCode> {
    let map = load(ctx, name)?;
    if name == DEFAULT {
        print!("{}", model::map::DEFAULT_MAP_TOML);
    } else {
        print!("{}", map.to_toml());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn clone(ctx: &Ctx, from: &str, to: &str) -> anyhow::Result<ExitCode> {
    model::map::check_name(to).map_err(anyhow::Error::msg)?;
    if ctx.runner.store.map_text(to)?.is_some() || to == DEFAULT {
        bail!("a map named '{to}' already exists");
    }
    let mut map = load(ctx, from)?;
    map.name = to.to_string();
    map.description = Some(format!("cloned from '{from}'"));
    save(ctx, &map)?;
    ctx.confirm(format_args!(
        "Cloned '{from}' to '{to}'. Edit it with `map set {to} FIELD=SOURCE` or `map edit {to}`,\nthen use it with `connector edit NAME --map {to}`."
    ));
    Ok(ExitCode::SUCCESS)
}

pub fn set(ctx: &Ctx, name: &str, assignments: &[String]) -> anyhow::Result<ExitCode> {
    let mut map = load(ctx, name)?;
    for a in assignments {
        map.set_rule(a).map_err(anyhow::Error::msg)?;
    }
    // Round-trip through the validator so a saved map always loads.
    Map::from_toml(&map.to_toml(), name)?;
    save(ctx, &map)?;
    ctx.confirm(format_args!(
        "Map '{name}' updated ({} change(s)).",
        assignments.len()
    ));
    Ok(ExitCode::SUCCESS)
}

pub fn edit(ctx: &Ctx, name: &str) -> anyhow::Result<ExitCode> {
    if name == DEFAULT {
        bail!(
            "the default map is built in and cannot be changed; clone it: map clone default NAME"
        );
    }
    let map = load(ctx, name)?;
    // An empty variable is an unset one (`VISUAL= appscan-bridge map edit`).
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let editor = set("VISUAL")
        .or_else(|| set("EDITOR"))
        .unwrap_or_else(|| "vi".into());
    let dir = tempfile::tempdir()?;
    let path = dir.path().join(format!("{name}.toml"));
    std::fs::write(&path, map.to_toml())?;
    loop {
        // Through the shell, as git runs it: `$EDITOR` may hold arguments
        // ("code --wait", "emacs -nw"), which one program name could not.
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{editor} \"$@\""))
            .arg(&editor)
            .arg(&path)
            .status()
            .with_context(|| format!("cannot run the editor '{editor}' (set $EDITOR)"))?;
        if !status.success() {
            bail!("the editor exited with {status}; the map is unchanged");
        }
        let text = std::fs::read_to_string(&path)?;
        match Map::from_toml(&text, &format!("{name}.toml")) {
            Ok(edited) if edited.name == name => {
                ctx.runner.store.save_map(name, &edited.to_toml())?;
                ctx.confirm(format_args!("Map '{name}' saved."));
                return Ok(ExitCode::SUCCESS);
            }
            Ok(edited) => bail!(
                "the map's name was changed to '{}'; use `map clone` to copy a map",
                edited.name
            ),
            Err(e) => {
                for p in &e.0 {
                    eprintln!("{p}");
                }
                if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                    bail!("the edited map is invalid; it was not saved");
                }
                eprintln!("The map is invalid; press Enter to edit it again or Ctrl-C to give up.");
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
            }
        }
    }
}

pub fn validate(file: &Path) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    match Map::from_text(&text, &file.display().to_string()) {
        Ok(m) => {
            println!(
                "{}: valid map '{}' ({} asset and {} finding fields, {} statuses, {} severities)",
                file.display(),
                m.name,
                m.asset.len(),
                m.finding.len(),
                m.status.len(),
                m.severity.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            for p in &e.0 {
                eprintln!("{p}");
            }
            eprintln!("{} problem(s)", e.0.len());
            Ok(ExitCode::FAILURE)
        }
    }
}

pub fn import(ctx: &Ctx, file: &Path) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let map = Map::from_text(&text, &file.display().to_string())?;
    save(ctx, &map)?;
    ctx.confirm(format_args!("Map '{}' saved.", map.name));
    Ok(ExitCode::SUCCESS)
}

/// The built-in map is no stored map: removing it was refused as "used by …; assign them
/// another map first", and once no connector used it, as "does not exist".
fn refuse_removing_the_default(name: &str) -> anyhow::Result<()> {
    if name == DEFAULT {
        bail!("the default map is built in and cannot be removed");
    }
    Ok(())
}

pub fn remove(ctx: &Ctx, name: &str) -> anyhow::Result<ExitCode> {
    refuse_removing_the_default(name)?;
    let users: Vec<String> = ctx
        .runner
        .store
        .connectors()?
        .into_iter()
        .filter(|c| c.settings.get("map").and_then(|m| m.as_str()) == Some(name))
        .map(|c| c.name)
        .collect();
    if !users.is_empty() {
        bail!(
            "map '{name}' is used by {}; assign them another map first",
            users.join(", ")
        );
    }
    if !ctx.runner.store.delete_map(name)? {
        bail!("map '{name}' does not exist");
    }
    ctx.confirm(format_args!("Map '{name}' removed."));
    Ok(ExitCode::SUCCESS)
}

pub fn targets(json: bool) -> anyhow::Result<ExitCode> {
    let kind = |k: Kind| if k == Kind::Asset { "asset" } else { "finding" };
    if json {
        let v: Vec<_> = TARGETS
            .iter()
            .map(|t| serde_json::json!({"name": t.name, "record": kind(t.kind), "type": format!("{:?}", t.value_type), "required": t.required, "doc": t.doc}))
            .collect();
        output::json(&v)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = output::table(&["target field", "record", "type", "required", "what"]);
    for t in TARGETS {
        table.add_row(vec![
            t.name.to_string(),
            kind(t.kind).into(),
            format!("{:?}", t.value_type),
            t.required.to_string(),
            t.doc.to_string(),
        ]);
    }
    output::print_table(&table);
    Ok(ExitCode::SUCCESS)
}
