//! `cargo run --example validate_catalog -- PATH...`
//!
//! Checks provider catalogs (`provider.json`) and integration rule files. Prints
//! `ok: <provider key> (<n> objects)` for a good catalog, `ok: <provider key> rule for
//! <object>` for a good rule, or every error, one per line naming the file, the JSON
//! pointer and what is wrong. Exits non-zero when any file has an error.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use devflow_sync::registry::load_catalog;
use devflow_sync::rules::IntegrationRule;

fn check(path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: cannot read: {e}"))?;
    let is_catalog = serde_json::from_str::<serde_json::Value>(&text)
        .map(|v| v.get("providerSchemaVersion").is_some())
        .unwrap_or(true);
    if is_catalog {
        let catalog = load_catalog(path, &text).map_err(|e| e.to_string())?;
        Ok(format!(
            "ok: {} ({} objects)",
            catalog.key,
            catalog.objects.len()
        ))
    } else {
        let rule = IntegrationRule::load(path, &text).map_err(|e| e.to_string())?;
        Ok(format!("ok: {} rule for {}", rule.provider, rule.object))
    }
}

fn main() -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: validate_catalog PATH...");
        return ExitCode::from(2);
    }
    let mut failed = false;
    for path in &paths {
        match check(path) {
            Ok(line) => println!("{line}"),
            Err(lines) => {
                failed = true;
                println!("{lines}");
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
