//! Reading an API key secret without it ever touching argv: from `$APPSCAN_KEY_SECRET`,
//! from standard input when that is not a terminal, or from a prompt without echo.

use anyhow::{Context, bail};
use secrecy::SecretString;
use std::io::{BufRead, IsTerminal};

/// The environment variable a secret may come from.
pub const SECRET_ENV: &str = "APPSCAN_KEY_SECRET";

pub fn read_secret(prompt: &str) -> anyhow::Result<SecretString> {
    if let Ok(s) = std::env::var(SECRET_ENV) {
        if s.trim().is_empty() {
            bail!("${SECRET_ENV} is set but empty");
        }
        return Ok(SecretString::from(s.trim().to_string()));
    }
    let stdin = std::io::stdin();
    let line = if stdin.is_terminal() {
        rpassword::prompt_password(prompt).context("cannot read the secret from the terminal")?
    } else {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the secret from standard input")?;
        line
    };
    let line = line.trim().to_string();
    if line.is_empty() {
        bail!(
            "no key secret given: set ${SECRET_ENV}, pipe it on standard input, or type it at the prompt"
        );
    }
    Ok(SecretString::from(line))
}
