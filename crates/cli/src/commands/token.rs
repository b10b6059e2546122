//! `token create|list|revoke`: the bearer tokens of `serve`'s write endpoints.

use super::Ctx;
use crate::args::TokenCommand;
use crate::output;
use std::process::ExitCode;

pub fn run(ctx: &Ctx, cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    let store = ctx.runner.store.as_ref();
    match cmd {
        TokenCommand::Create { name, json } => {
            let t = server::tokens::create(store, name.as_deref())?;
            if json {
                output::json(&serde_json::json!({
                    "id": t.token.id,
                    "name": t.token.name,
                    "token": t.secret(),
                }))?;
            } else {
                println!("{}", t.secret());
                if !ctx.quiet {
                    eprintln!(
                        "token '{}' (id {}) created; it is shown only now — use it as 'Authorization: Bearer <token>'",
                        t.token.name, t.token.id
                    );
                }
            }
        }
        TokenCommand::List { json, all } => {
            let tokens: Vec<_> = store
                .tokens()?
                .into_iter()
                .filter(|t| all || t.revoked_at.is_none())
                .collect();
            if json {
                output::json(&tokens)?;
            } else if tokens.is_empty() {
                println!("No tokens: appscan-bridge token create --name NAME");
            } else {
                let mut table =
                    output::table(&["id", "name", "token", "created", "last used", "revoked"]);
                for t in &tokens {
                    table.add_row(vec![
                        t.id.to_string(),
                        t.name.clone(),
                        t.hint.clone(),
                        output::time(t.created_at),
                        output::time_opt(t.last_used_at),
                        output::time_opt(t.revoked_at),
                    ]);
                }
                output::print_table(&table);
            }
        }
        TokenCommand::Revoke { token } => {
            // Named as `token list` shows it, whether given by id or by name.
            let shown = store
                .tokens()?
                .into_iter()
                .find(|t| t.revoked_at.is_none() && (t.name == token || t.id.to_string() == token))
                .map_or_else(
                    || format!("'{token}'"),
                    |t| format!("'{}' (id {})", t.name, t.id),
                );
            if store.revoke_token(&token)? {
                ctx.confirm(format_args!("token {shown} revoked"));
            } else {
                // An id names its token first: said when that one is already revoked,
                // rather than that no token has the name (a live one may be named so).
                let tokens = store.tokens()?;
                let revoked = tokens
                    .iter()
                    .find(|t| t.id.to_string() == token && t.revoked_at.is_some());
                let named = tokens
                    .iter()
                    .find(|t| t.revoked_at.is_none() && t.name == token);
                match (revoked, named) {
                    (Some(t), Some(n)) => anyhow::bail!(
                        "token {} ('{}') is already revoked; the live token named '{token}' has id {}: revoke it by that id",
                        t.id,
                        t.name,
                        n.id
                    ),
                    (Some(t), None) => {
                        anyhow::bail!("token {} ('{}') is already revoked", t.id, t.name)
                    }
                    _ => anyhow::bail!(
                        "no live token has the id or name '{token}' (see `token list`)"
                    ),
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
