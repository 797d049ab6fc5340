//! Exports of one person's data (GDPR Art. 15/20): the formats, by name, for both faces.
//! An unknown format is an error, never silently JSON.

use std::path::Path;

use kontor_contacts::ContactBook;

use super::{ServiceError, fs::write_private};

/// The formats an export can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Kontor's complete record, consent history included.
    Json,
    /// vCard 4.0, for other address books.
    Vcard,
}

impl ExportFormat {
    /// From the name the CLI and the views use (`json`, `vcard`).
    pub fn parse(name: &str) -> Result<ExportFormat, ServiceError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(ExportFormat::Json),
            "vcard" | "vcf" => Ok(ExportFormat::Vcard),
            other => Err(ServiceError::UnknownFormat(other.to_owned())),
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Vcard => "vcf",
        }
    }

    /// One contact's data in this format.
    pub fn render(self, book: &ContactBook, id: &str) -> Result<String, ServiceError> {
        Ok(match self {
            ExportFormat::Json => book.export_json(id)?,
            ExportFormat::Vcard => book.export_vcard(id)?,
        })
    }
}

/// Writes an export privately ([`write_private`]).
pub fn write(path: &Path, content: &str) -> Result<(), ServiceError> {
    write_private(path, content.as_bytes()).map_err(|source| ServiceError::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name_and_unknown_ones_refused() {
        assert_eq!(ExportFormat::parse("vcard").unwrap(), ExportFormat::Vcard);
        assert_eq!(ExportFormat::parse(" JSON ").unwrap(), ExportFormat::Json);
        assert!(matches!(
            ExportFormat::parse("pdf"),
            Err(ServiceError::UnknownFormat(f)) if f == "pdf"
        ));
        assert_eq!(ExportFormat::Vcard.extension(), "vcf");
    }
}
