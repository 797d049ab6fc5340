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

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use futures_util::StreamExt;
use matrix_sdk::{
    bytes::Bytes,
    encryption::MediaEncryptionInfo,
    ruma::{
        EventId, OwnedMxcUri, UInt,
        events::{
            AnyMessageLikeEventContent,
            room::{
                EncryptedFile, MediaSource,
                message::{
                    FileInfo, FileMessageEventContent, MessageType, RoomMessageEventContent,
                },
            },
        },
    },
};
use matrix_sdk_crypto::{AttachmentDecryptor, AttachmentEncryptor};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{CancellationToken, CoreEvent, Direction, Error, Kontor, MessageBody, Result};

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

#[derive(serde::Deserialize)]
struct UploadResponse {
    content_uri: OwnedMxcUri,
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

    /// Encrypts `path` (AES-256-CTR + SHA-256, the SDK's `AttachmentEncryptor`) while
    /// streaming it to the media repository: no temp file, a few chunks in flight.
    /// CTR keeps the length, so `Content-Length` is the file size up front. Returns the
    /// mxc URI, the plaintext's hex SHA-256 and the keys for the event.
    ///
    /// `cancel` ends the body early and drops the request (see
    /// [`Kontor::send_file_cancellable`]).
    async fn upload_encrypted(
        &self,
        path: &Path,
        size: u64,
        id: &str,
        cancel: &CancellationToken,
    ) -> Result<(OwnedMxcUri, String, MediaEncryptionInfo)> {
        let token = self.client.access_token().ok_or(Error::NotLoggedIn)?;
        let url = format!(
            "{}/_matrix/media/v3/upload",
            self.homeserver.trim_end_matches('/')
        );
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(8);
        let src = path.to_owned();
        let encrypting = tokio::task::spawn_blocking(move || encrypt_into(&src, size, &tx));
        let done = Arc::new(AtomicU64::new(0));
        let events = self.events.clone();
        let id = id.to_owned();
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .map(move |chunk| {
            if let Ok(c) = &chunk {
                let d = done.fetch_add(c.len() as u64, Ordering::Relaxed) + c.len() as u64;
                let _ = events.send(CoreEvent::Transfer {
                    id: id.clone(),
                    direction: Direction::Upload,
                    done: d,
                    total: size,
                });
            }
            chunk
        })
        // Cancelled: the body ends short of its Content-Length, so the server cannot take
        // it for a complete file even if it saw every byte sent so far.
        .take_until(cancel.clone().cancelled_owned());
        let request = self
            .http
            .post(url)
            .bearer_auth(token)
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", size)
            .body(matrix_sdk::reqwest::Body::wrap_stream(stream))
            .send();
        let sent = tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                // Dropping the request closes the connection; the encryptor stops when its
                // channel closes (not awaited: it may still be blocked on a full channel
                // until the connection task lets go of the body).
                tracing::info!("upload cancelled");
                return Err(Error::Cancelled);
            }
            sent = request => sent,
        };
        // A local read error ends the body early; report it as what it is, not as a
        // network failure.
        let encrypted = encrypting
            .await
            .map_err(|e| Error::io("cannot encrypt", path, std::io::Error::other(e)))?;
        let encrypted = match encrypted {
            Err(e @ Error::Io { .. }) => return Err(e),
            other => other,
        };
        let resp = sent.map_err(|e| Error::Unreachable(e.to_string()))?;
        // A server that refuses the upload (too large, quota) may answer before the body is
        // done, which also stops the encryptor: that is a refusal, not an outage to queue for.
        if !resp.status().is_success() {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            return Err(Error::Refused(format!("upload: {status} {text}")));
        }
        let (sha256, keys) = encrypted?;
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Error::Unreachable(e.to_string()))?;
        let body: UploadResponse = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Refused(format!("upload response: {e}")))?;
        Ok((body.content_uri, sha256, keys))
    }

    /// Downloads the file of event `event_id` (searched in every joined room), verifies
    /// its hash, decrypts it and writes it to `out`. `out` only appears once the whole
    /// file is verified; an existing `out` is replaced atomically.
    pub async fn download(&self, event_id: &str, out: &Path) -> Result<Downloaded> {
        let eid = EventId::parse(event_id).map_err(|_| Error::EventNotFound(event_id.into()))?;
        let mut found = None;
        for room in self.client.joined_rooms() {
            if let Ok(ev) = room.event(&eid, None).await
                && let Some(msg) = crate::chat::to_message(&room, &ev, None)
            {
                found = Some((msg, ev));
                break;
            }
        }
        let (msg, ev) = found.ok_or_else(|| Error::EventNotFound(event_id.into()))?;
        let MessageBody::File { name, .. } = msg.body else {
            return Err(Error::NotAFile(event_id.into()));
        };
        let content = match ev.raw().deserialize() {
            Ok(matrix_sdk::ruma::events::AnySyncTimelineEvent::MessageLike(
                matrix_sdk::ruma::events::AnySyncMessageLikeEvent::RoomMessage(
                    matrix_sdk::ruma::events::SyncMessageLikeEvent::Original(m),
                ),
            )) => match m.content.msgtype {
                MessageType::File(f) => f,
                _ => return Err(Error::NotAFile(event_id.into())),
            },
            _ => return Err(Error::NotAFile(event_id.into())),
        };
        let (uri, encrypted) = match content.source {
            MediaSource::Encrypted(f) => (f.url.clone(), Some(f)),
            MediaSource::Plain(u) => (u, None),
        };
        let out_dir = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // The plaintext goes to a temp file next to `out` and is only moved into place
        // once the decryptor has checked the whole file's SHA-256.
        let staged = tempfile_in(out_dir)?;
        let (size, sha256) = self
            .download_decrypting(&uri, staged.path(), encrypted.map(|f| *f), event_id)
            .await?;
        staged
            .persist(out)
            .map_err(|e| Error::io("cannot write", out, e.error))?;
        Ok(Downloaded {
            path: out.to_owned(),
            name,
            size,
            sha256,
        })
    }

    /// Streams the ciphertext from the media repository straight through the decryptor
    /// (on a blocking thread) into `dst`; returns plaintext size and hex SHA-256. The
    /// decryptor fails at the end if the hash does not match the event's.
    async fn download_decrypting(
        &self,
        uri: &OwnedMxcUri,
        dst: &Path,
        file: Option<EncryptedFile>,
        id: &str,
    ) -> Result<(u64, String)> {
        let (server, media_id) = uri
            .parts()
            .map_err(|_| Error::Integrity(id.into(), "bad mxc uri".into()))?;
        let token = self.client.access_token().ok_or(Error::NotLoggedIn)?;
        let url = format!(
            "{}/_matrix/client/v1/media/download/{server}/{media_id}",
            self.homeserver.trim_end_matches('/')
        );
        let resp = self
            .http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| Error::Unreachable(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(Error::Refused(format!("download: {}", resp.status())));
        }
        let total = resp.content_length().unwrap_or(0);
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(8);
        let decrypting = {
            let dst = dst.to_owned();
            let id = id.to_owned();
            tokio::task::spawn_blocking(move || {
                let input = ChannelReader {
                    rx,
                    current: Bytes::new(),
                };
                decrypt_to(input, &dst, file, &id)
            })
        };
        let mut stream = resp.bytes_stream();
        let mut done = 0u64;
        let mut network: Option<String> = None;
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(c) => {
                    done += c.len() as u64;
                    if tx.send(Ok(c)).await.is_err() {
                        break; // the decryptor already failed; its error says why
                    }
                    self.emit(CoreEvent::Transfer {
                        id: id.into(),
                        direction: Direction::Download,
                        done,
                        total,
                    });
                }
                Err(e) => {
                    network = Some(e.to_string());
                    let _ = tx
                        .send(Err(std::io::Error::other("download interrupted")))
                        .await;
                    break;
                }
            }
        }
        drop(tx);
        let result = decrypting
            .await
            .map_err(|e| Error::io("cannot decrypt", dst, std::io::Error::other(e)))?;
        match network {
            Some(reason) => Err(Error::Unreachable(reason)),
            None => result,
        }
    }
}

/// Encrypts `src` chunk by chunk into `tx` (the upload body); returns the plaintext's
/// hex SHA-256 and the keys. Fails if the file's length is not the announced `size`.
fn encrypt_into(
    src: &Path,
    size: u64,
    tx: &tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
) -> Result<(String, MediaEncryptionInfo)> {
    let mut input = std::fs::File::open(src).map_err(|e| Error::io("cannot read", src, e))?;
    let mut hashing = HashingReader {
        inner: &mut input,
        sha: Sha256::new(),
        n: 0,
    };
    let mut enc = AttachmentEncryptor::new(&mut hashing);
    loop {
        let mut buf = vec![0u8; CHUNK];
        let n = match read_full(&mut enc, &mut buf) {
            Ok(n) => n,
            Err(e) => {
                let _ = tx.blocking_send(Err(std::io::Error::other("cannot read the file")));
                return Err(Error::io("cannot read", src, e));
            }
        };
        if n == 0 {
            break;
        }
        buf.truncate(n);
        if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
            // The request ended (server gone); the caller reports that.
            return Err(Error::Unreachable("upload aborted".into()));
        }
    }
    let keys = enc.finish();
    if hashing.n != size {
        let _ = tx.blocking_send(Err(std::io::Error::other("file changed")));
        return Err(Error::io(
            "file changed while sending",
            src,
            std::io::Error::other(format!("{} bytes instead of {size}", hashing.n)),
        ));
    }
    Ok((hex::encode(hashing.sha.finalize()), keys))
}

/// Fills `buf` as far as the reader goes (the encryptor returns short reads).
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A blocking `Read` over the chunks the async download loop forwards.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Decrypts (or copies, for a plain file) `input` into `dst`, checking the event's hash.
fn decrypt_to(
    mut input: impl Read,
    dst: &Path,
    file: Option<EncryptedFile>,
    id: &str,
) -> Result<(u64, String)> {
    let mut out = std::io::BufWriter::new(
        std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(dst)
            .map_err(|e| Error::io("cannot write", dst, e))?,
    );
    let mut sha = Sha256::new();
    let mut n = 0u64;
    let mut buf = vec![0u8; CHUNK];
    let mut reader: Box<dyn Read> = match file {
        Some(f) => Box::new(
            AttachmentDecryptor::new(&mut input, f.into())
                .map_err(|e| Error::Integrity(id.into(), e.to_string()))?,
        ),
        None => Box::new(&mut input),
    };
    loop {
        let k = reader
            .read(&mut buf)
            .map_err(|e| Error::Integrity(id.into(), e.to_string()))?;
        if k == 0 {
            break;
        }
        sha.update(&buf[..k]);
        n += k as u64;
        out.write_all(&buf[..k])
            .map_err(|e| Error::io("cannot write", dst, e))?;
    }
    out.flush().map_err(|e| Error::io("cannot write", dst, e))?;
    out.get_ref()
        .sync_all()
        .map_err(|e| Error::io("cannot sync", dst, e))?;
    Ok((n, hex::encode(sha.finalize())))
}

struct HashingReader<'a, R: Read> {
    inner: &'a mut R,
    sha: Sha256,
    n: u64,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.sha.update(&buf[..k]);
        self.n += k as u64;
        Ok(k)
    }
}

fn tempfile_in(dir: &Path) -> Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".kontor-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("cannot create a temporary file in", dir, e))
}

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
    use super::*;

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
    fn a_file_that_changes_length_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("quote.pdf");
        std::fs::write(&src, vec![7u8; 1000]).unwrap();
        let (tx, _rx) = tokio::sync::mpsc::channel(1024);
        let err = encrypt_into(&src, 999, &tx).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
    }

    #[test]
    fn channel_reader_passes_chunks_and_errors_through() {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tx.try_send(Ok(Bytes::from_static(b"abc"))).unwrap();
        tx.try_send(Ok(Bytes::from_static(b"defg"))).unwrap();
        tx.try_send(Err(std::io::Error::other("cut"))).unwrap();
        let mut r = ChannelReader {
            rx,
            current: Bytes::new(),
        };
        let mut buf = [0u8; 5];
        assert_eq!(r.read(&mut buf).unwrap(), 3);
        assert_eq!(r.read(&mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"defg");
        assert!(r.read(&mut buf).is_err());
        drop(tx);
    }

    #[test]
    fn mime_guess() {
        assert_eq!(guess_mime("Angebot.PDF").essence_str(), "application/pdf");
        assert_eq!(guess_mime("x.bin"), mime::APPLICATION_OCTET_STREAM);
    }
}
