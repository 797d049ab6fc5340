//! `kontor contacts proof ID --out FILE [--format pdf|json] [--lang de|en]`: the consent
//! proof of one contact (GDPR Art. 7(1)), made by the service's rule
//! ([`kontor::service::proof`], the same the app's "Export proof" uses).

use std::path::Path;

use anyhow::Result;
use kontor::service::{
    language::Language,
    proof::{self, ProofFormat},
};
use serde_json::json;

use super::{Ctx, existing_book};
use crate::{
    cli::{Lang, ProofFormat as FormatArg},
    exit::{Fail, USAGE},
    output,
};

/// Writes the proof of `id` to `out`: the format named, else the one of the extension.
pub fn proof(ctx: &Ctx, id: &str, out: &Path, format: Option<FormatArg>, lang: Lang) -> Result<()> {
    // A usage mistake is found before the passphrase is asked for.
    let format = match format {
        Some(FormatArg::Pdf) => ProofFormat::Pdf,
        Some(FormatArg::Json) => ProofFormat::Json,
        None => ProofFormat::from_path(out).ok_or_else(|| {
            Fail::new(
                USAGE,
                format!(
                    "cannot tell the format of {}: end it in .pdf or .json, or pass --format pdf|json",
                    out.display()
                ),
            )
        })?,
    };
    let language = match lang {
        Lang::De => Language::German,
        Lang::En => Language::English,
    };
    let book = existing_book(ctx)?;
    let (_, c) = book.get(id)?;
    let bytes = proof::render(&book, &c.id, format, language)?;
    proof::write(out, &bytes)?;
    if ctx.json {
        return output::json(&json!({
            "id": c.id,
            "out": out.display().to_string(),
            "format": format.name(),
            "bytes": bytes.len(),
        }));
    }
    println!(
        "consent proof of {} ({}) written to {} as {}",
        c.display_name,
        c.id,
        out.display(),
        format.name()
    );
    Ok(())
}
