//! `kontor link`: the business link and its QR code as PNG / SVG.

use std::path::Path;

use anyhow::Result;
use kontor::service::link::{self, QrFormat};
use serde_json::json;

use super::Ctx;
use crate::output;

/// `kontor link [--png PATH] [--svg PATH]`
pub async fn link(ctx: &Ctx, png: Option<&Path>, svg: Option<&Path>) -> Result<()> {
    // The user id is in the saved session: no sync, so the link works offline.
    let kontor = ctx.restore(None, false).await?;
    let link = ctx.service(kontor.clone()).business_link()?;
    for (path, format) in [(png, QrFormat::Png), (svg, QrFormat::Svg)] {
        if let Some(path) = path {
            // The error names the path.
            link::write(&link, format, path)?;
        }
    }
    if ctx.json {
        output::json(&json!({
            "link": link,
            "user_id": kontor.user_id(),
            "png": png.map(|p| p.display().to_string()),
            "svg": svg.map(|p| p.display().to_string()),
        }))
    } else {
        println!("{link}");
        for path in [png, svg].into_iter().flatten() {
            eprintln!("QR code written to {}", path.display());
        }
        Ok(())
    }
}
