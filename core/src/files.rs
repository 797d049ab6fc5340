//! Attachments: encrypted upload and download that stream, whatever the file size.
//!
//! matrix-sdk's own `send_attachment` and `Media::get_file` hold the whole file in memory,
//! twice (plaintext and ciphertext) plus the HTTP body: a 200 MB quote would need more than
//! 600 MB. Here the file is encrypted with the SDK's `AttachmentEncryptor` (AES-256-CTR +
//! SHA-256, the standard Matrix scheme) on a blocking thread, chunk by chunk, straight into
//! the upload's request body; the download feeds the response chunks to
//! `AttachmentDecryptor` on a blocking thread, which writes a temp file next to the target
//! and checks the SHA-256 from the event before the plaintext is moved into place. Memory
//! stays at a few 256 KiB chunks, and nothing but the verified plaintext touches the disk.
//!
//! The file event itself (standard `m.file`, readable by Element and friends) then goes
//! through the send queue like any message.
//!
//! `send` picks the streaming upload (`upload`) or, with the homeserver unreachable, the
//! SDK's send queue, and builds the event (with a caption and a structured payload when
//! asked); `download` fetches a file.

mod download;
mod send;
mod upload;

use std::path::PathBuf;

use serde::Serialize;

/// Size of the pieces both pipes hand between the network and the blocking cipher thread.
const CHUNK: usize = 256 * 1024;

/// The prefix of content keys that carry Kontor's structured payloads in a file event
/// ([`crate::Kontor::send_file_with`]); a reader finds them in [`crate::MessageBody::File`]'s
/// `extra`. Namespaced (Java package style) as the Matrix spec asks for custom keys, so
/// other clients ignore them.
pub const EXTRA_NAMESPACE: &str = "eu.kontor.";

/// Largest file that is queued on disk when the homeserver is unreachable (see
/// `Kontor::queue_file_offline`).
pub const OFFLINE_QUEUE_LIMIT: u64 = 64 << 20;

/// What [`crate::Kontor::send_file`] (and [`crate::Kontor::send_file_with`]) queued.
#[derive(Debug, Clone, Serialize)]
pub struct SentFile {
    /// The outbox transaction id of the file message.
    pub transaction_id: String,
    /// Bytes of the file.
    pub size: u64,
    /// Hex SHA-256 of the plaintext, for the sender's records.
    pub sha256: String,
}

/// What [`crate::Kontor::download`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Downloaded {
    /// Where the plaintext now is.
    pub path: PathBuf,
    /// File name the sender gave.
    pub name: String,
    /// Bytes written.
    pub size: u64,
    /// Hex SHA-256 of the plaintext.
    pub sha256: String,
}

/// The MIME type for a file name's extension, for when the caller gives none.
fn guess_mime(name: &str) -> mime::Mime {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "pdf" => "application/pdf".parse().expect("valid mime"),
        "txt" => mime::TEXT_PLAIN,
        "png" => mime::IMAGE_PNG,
        "jpg" | "jpeg" => mime::IMAGE_JPEG,
        "odt" => "application/vnd.oasis.opendocument.text"
            .parse()
            .expect("valid mime"),
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            .parse()
            .expect("valid mime"),
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            .parse()
            .expect("valid mime"),
        _ => mime::APPLICATION_OCTET_STREAM,
    }
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::events::room::EncryptedFile;
    use sha2::{Digest, Sha256};

    use super::{download::decrypt_to, upload::encrypt_into, *};
    use crate::Error;

    #[test]
    fn encrypt_then_decrypt_round_trips_and_detects_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("quote.pdf");
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&src, &data).unwrap();
        let size = data.len() as u64;
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        let (sha, keys) = encrypt_into(&src, size, &tx).unwrap();
        drop(tx);
        let mut ct = Vec::new();
        while let Ok(chunk) = rx.try_recv() {
            ct.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(ct.len(), data.len(), "CTR keeps the length");
        assert_eq!(sha, hex::encode(Sha256::digest(&data)));
        assert_ne!(ct, data, "ciphertext must differ from plaintext");
        let file = EncryptedFile::new("mxc://x/y".into(), keys.encryption_info, keys.hashes);

        let out = dir.path().join("out");
        std::fs::write(&out, b"").unwrap();
        let (n, sha2) = decrypt_to(&ct[..], &out, Some(file.clone()), "$e").unwrap();
        assert_eq!((n, sha2), (size, sha));
        assert_eq!(std::fs::read(&out).unwrap(), data);

        let mut bad = ct.clone();
        bad[500] ^= 1;
        let err = decrypt_to(&bad[..], &out, Some(file), "$e").unwrap_err();
        assert!(matches!(err, Error::Integrity(..)), "{err:?}");
    }

    #[test]
    fn mime_guess() {
        assert_eq!(guess_mime("Angebot.PDF").essence_str(), "application/pdf");
        assert_eq!(guess_mime("x.bin"), mime::APPLICATION_OCTET_STREAM);
    }
}
