//! The send path of attachments: the streaming encrypted upload, or the SDK's send
//! queue while the homeserver is unreachable, then the `m.file` event — with a caption
//! and a structured payload when the caller gives them ([`Kontor::send_file_with`]).
//!
//! The event is a standard `m.file`: `filename` is the file's name and `body` the
//! caption when there is one (the spec's media captions: a body that differs from the
//! filename is a caption, and Element shows it under the file). A structured payload
//! goes under a namespaced key of the same content, so it is encrypted with it, travels
//! with the file it describes, and other clients ignore it.

use std::path::Path;

use matrix_sdk::ruma::{
    UInt,
    events::{
        AnyMessageLikeEventContent,
        room::{
            EncryptedFile,
            message::{
                FileInfo, FileMessageEventContent, MessageType, RoomMessageEventContent,
                TextMessageEventContent,
            },
        },
    },
    serde::Raw,
};
use sha2::{Digest, Sha256};

use super::{EXTRA_NAMESPACE, OFFLINE_QUEUE_LIMIT, SentFile, guess_mime};
use crate::{CancellationToken, Error, Kontor, Result};

impl Kontor {
    /// Encrypts and uploads `path`, then queues an `m.file` message for it. Progress is
    /// published as [`crate::CoreEvent::Transfer`] under the file's name (the transaction id does
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
        self.send_file_with(room_id, path, mime, None, None, cancel)
            .await
    }

    /// [`Kontor::send_file_cancellable`] with a caption and a structured payload.
    ///
    /// - `caption` becomes the event's `body` (with `filename` the file's name), which
    ///   Element and other clients show as the file's caption;
    /// - `extra` = `(key, value)` puts `value` under `key` in the same event content,
    ///   encrypted with it; `key` must be in Kontor's namespace ([`EXTRA_NAMESPACE`],
    ///   else [`Error::ForeignExtraKey`]), and the receiving Kontor reads it back from
    ///   [`crate::MessageBody::File`]'s `extra`.
    ///
    /// While the homeserver is unreachable a file without `extra` is queued on disk as
    /// [`Kontor::send_file_cancellable`] does; with `extra` this fails with
    /// [`Error::Unreachable`] instead: the SDK's offline attachment queue builds the
    /// event itself and has no way to carry the payload, and a quote that arrives as a
    /// bare PDF would silently lose what makes it answerable. The caller retries later.
    pub async fn send_file_with(
        &self,
        room_id: &str,
        path: &Path,
        mime: Option<&str>,
        caption: Option<&str>,
        extra: Option<(&str, serde_json::Value)>,
        cancel: &CancellationToken,
    ) -> Result<SentFile> {
        if let Some((key, _)) = &extra
            && !key.starts_with(EXTRA_NAMESPACE)
        {
            return Err(Error::ForeignExtraKey((*key).to_owned()));
        }
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
                if size <= OFFLINE_QUEUE_LIMIT && !cancel.is_cancelled() && extra.is_none() =>
            {
                let queued = self
                    .queue_file_offline(&room, path, name, mime, caption, reason)
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
        let content = file_content(file, name, &mime, size, caption, extra)?;
        let transaction_id = self
            .enqueue_raw(&room, content, "m.room.message".to_owned())
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
        caption: Option<&str>,
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
            .info(matrix_sdk::attachment::AttachmentInfo::File(info))
            .caption(caption.map(TextMessageEventContent::plain));
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

/// The `m.room.message` content of a file: `filename` the name, `body` the caption (or
/// the name when there is none), size and type in `info`, and the structured payload
/// under its key. Built as JSON because the SDK's typed content has no place for it.
fn file_content(
    file: EncryptedFile,
    name: String,
    mime: &mime::Mime,
    size: u64,
    caption: Option<&str>,
    extra: Option<(&str, serde_json::Value)>,
) -> Result<Raw<AnyMessageLikeEventContent>> {
    let body = caption.map_or_else(|| name.clone(), str::to_owned);
    let mut content = FileMessageEventContent::encrypted(body, file);
    content.filename = Some(name);
    let mut info = FileInfo::new();
    info.mimetype = Some(mime.to_string());
    info.size = UInt::new(size);
    content.info = Some(Box::new(info));
    let msg = RoomMessageEventContent::new(MessageType::File(content));
    let json_err = |e: serde_json::Error| Error::Matrix(Box::new(e.into()));
    let mut json = serde_json::to_value(&msg).map_err(json_err)?;
    if let (Some((key, value)), Some(object)) = (extra, json.as_object_mut()) {
        object.insert(key.to_owned(), value);
    }
    let raw = serde_json::value::to_raw_value(&json).map_err(json_err)?;
    Ok(Raw::from_json(raw))
}
