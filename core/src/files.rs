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
//! This module sends: it picks the streaming upload (`upload`) or, with the homeserver
//! unreachable, the SDK's send queue, and builds the event; `download` fetches a file.

mod download;
mod upload;

use std::path::{Path, PathBuf};

use matrix_sdk::ruma::{
    UInt,
    events::{
        AnyMessageLikeEventContent,
        room::{
            EncryptedFile,
            message::{FileInfo, FileMessageEventContent, MessageType, RoomMessageEventContent},
        },
    },
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{CancellationToken, Error, Kontor, Result};

/// Size of the pieces both pipes hand between the network and the blocking cipher thread.
const CHUNK: usize = 256 * 1024;

/// Largest file that is queued on disk when the homeserver is unreachable (see
/// [`Kontor::queue_file_offline`]).
pub const OFFLINE_QUEUE_LIMIT: u64 = 64 << 20;

/// What [`Kontor::send_file`] queued.
#[derive(Debug, Clone, Serialize)]
pub struct SentFile {
    /// The outbox transaction id of the file message.
    pub transaction_id: String,
    /// Bytes of the file.
    pub size: u64,
    /// Hex SHA-256 of the plaintext, for the sender's records.
    pub sha256: String,
}

/// What [`Kontor::download`] wrote.
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

impl Kontor {
    /// Encrypts and uploads `path`, then queues an `m.file` message for it. Progress is
    /// published as [`CoreEvent::Transfer`] under the file's name (the transaction id does
    /// not exist before the upload is done).
    pub async fn send_file(
        &self,
        room_id: &str,
        path: &Path,
        mime: Option<&str>,
    ) -> Result<SentFile> {
        self.send_file_cancellable(room_id, path, mime, &CancellationToken::new())
            .await
    }

    /// [`Kontor::send_file`] that stops when `cancel` is cancelled, with
    /// [`Error::Cancelled`], and then no file event ever reaches the room:
    /// - during the upload the request is dropped mid-body, which closes the connection, so
    ///   the homeserver discards the partial upload, and the encryptor stops (the file is
    ///   streamed, there is no temp file to remove);
    /// - between upload and queueing the event is simply not queued (the finished upload
    ///   stays on the server as unreferenced ciphertext whose key never left this device:
    ///   Matrix has no client API to delete media);
    /// - a file queued offline is taken out of the send queue again, which also removes
    ///   its copy from the media store.
    ///
    /// Once this returned `Ok`, the file is an ordinary queued message: [`Kontor::cancel`]
    /// with its transaction id removes it while it still waits (offline).
    pub async fn send_file_cancellable(
        &self,
        room_id: &str,
        path: &Path,
        mime: Option<&str>,
        cancel: &CancellationToken,
    ) -> Result<SentFile> {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let room = self.joined_room(room_id)?;
        self.ensure_encrypted(&room).await?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let mime: mime::Mime = mime
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| guess_mime(&name));

        let size = tokio::fs::metadata(path)
            .await
            .map_err(|e| Error::io("cannot read", path, e))?
            .len();
        let (uri, sha256, keys) = match self.upload_encrypted(path, size, &name, cancel).await {
            Ok(done) => done,
            Err(Error::Unreachable(reason))
                if size <= OFFLINE_QUEUE_LIMIT && !cancel.is_cancelled() =>
            {
                let queued = self
                    .queue_file_offline(&room, path, name, mime, reason)
                    .await?;
                if cancel.is_cancelled() && self.cancel(&queued.transaction_id).await? {
                    return Err(Error::Cancelled);
                }
                return Ok(queued);
            }
            Err(e) => return Err(e),
        };
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }

        let file = EncryptedFile::new(uri, keys.encryption_info, keys.hashes);
        let mut content = FileMessageEventContent::encrypted(name.clone(), file);
        content.filename = Some(name);
        let mut info = FileInfo::new();
        info.mimetype = Some(mime.to_string());
        info.size = UInt::new(size);
        content.info = Some(Box::new(info));
        let msg = RoomMessageEventContent::new(MessageType::File(content));
        let transaction_id = self
            .enqueue(&room, AnyMessageLikeEventContent::RoomMessage(msg))
            .await?;
        Ok(SentFile {
            transaction_id,
            size,
            sha256,
        })
    }

    /// The homeserver is unreachable: hand the file to matrix-sdk's send queue, which
    /// keeps it in the profile's encrypted media store and uploads it (encrypted) and
    /// sends the `m.file` event in order with the other queued messages once the server
    /// is back, also after a restart. That path holds the file in memory, which is why
    /// only files up to [`OFFLINE_QUEUE_LIMIT`] take it (quotes and invoices are far
    /// smaller); bigger ones fail with [`Error::Unreachable`] and the caller retries.
    async fn queue_file_offline(
        &self,
        room: &matrix_sdk::Room,
        path: &Path,
        name: String,
        mime: mime::Mime,
        reason: String,
    ) -> Result<SentFile> {
        tracing::info!("homeserver unreachable, queueing the attachment for later: {reason}");
        let data = tokio::fs::read(path)
            .await
            .map_err(|e| Error::io("cannot read", path, e))?;
        let size = data.len() as u64;
        let sha256 = hex::encode(Sha256::digest(&data));
        let info = matrix_sdk::attachment::BaseFileInfo {
            size: UInt::new(size),
        };
        let config = matrix_sdk::attachment::AttachmentConfig::new()
            .info(matrix_sdk::attachment::AttachmentInfo::File(info));
        let _guard = self.send_lock.lock().await;
        let mut updates = self.client.send_queue().subscribe();
        room.send_queue()
            .send_attachment(name, mime, data, config)
            .await
            .map_err(|e| Error::Matrix(Box::new(matrix_sdk::Error::UnknownError(Box::new(e)))))?;
        Ok(SentFile {
            transaction_id: crate::chat::queued_txn(&mut updates, room)?,
            size,
            sha256,
        })
    }
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
    use super::{download::decrypt_to, upload::encrypt_into, *};

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
