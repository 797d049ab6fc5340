//! The download pipe: the ciphertext streams from the media repository through the
//! decryptor on a blocking thread into a temp file next to the target, which is moved
//! into place only once the SHA-256 from the event matched.
//!
//! Also finds the file event itself ([`Kontor::download`] takes just an event id) and
//! reports progress as [`CoreEvent::Transfer`].

use std::{
    io::{Read, Write},
    path::Path,
};

use futures_util::StreamExt;
use matrix_sdk::{
    bytes::Bytes,
    ruma::{
        EventId, OwnedMxcUri,
        events::room::{EncryptedFile, MediaSource, message::MessageType},
    },
};
use matrix_sdk_crypto::AttachmentDecryptor;
use sha2::{Digest, Sha256};

use super::{CHUNK, Downloaded};
use crate::{CoreEvent, Direction, Error, Kontor, MessageBody, Result};

impl Kontor {
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
pub(super) fn decrypt_to(
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

/// A temp file in `dir`, so the final rename stays on one file system.
fn tempfile_in(dir: &Path) -> Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".kontor-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("cannot create a temporary file in", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
