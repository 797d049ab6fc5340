//! The upload pipe: the file is read and encrypted on a blocking thread, chunk by chunk,
//! straight into the body of one streaming `POST /_matrix/media/v3/upload`.
//!
//! AES-256-CTR keeps the length, so the body's `Content-Length` is the file size up front;
//! the plaintext's SHA-256 is computed on the way, for the sender's records. Memory stays
//! at a few `CHUNK`s however big the file; there is no temp file to clean up.

use std::{
    io::Read,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use futures_util::StreamExt;
use matrix_sdk::{bytes::Bytes, encryption::MediaEncryptionInfo, ruma::OwnedMxcUri};
use matrix_sdk_crypto::AttachmentEncryptor;
use sha2::{Digest, Sha256};

use super::CHUNK;
use crate::{CancellationToken, CoreEvent, Direction, Error, Kontor, Result};

/// The media repository's answer to an upload.
#[derive(serde::Deserialize)]
struct UploadResponse {
    content_uri: OwnedMxcUri,
}

impl Kontor {
    /// Encrypts `path` (AES-256-CTR + SHA-256, the SDK's `AttachmentEncryptor`) while
    /// streaming it to the media repository: no temp file, a few chunks in flight.
    /// CTR keeps the length, so `Content-Length` is the file size up front. Returns the
    /// mxc URI, the plaintext's hex SHA-256 and the keys for the event.
    ///
    /// `cancel` ends the body early and drops the request (see
    /// [`Kontor::send_file_cancellable`]).
    pub(super) async fn upload_encrypted(
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
}

/// Encrypts `src` chunk by chunk into `tx` (the upload body); returns the plaintext's
/// hex SHA-256 and the keys. Fails if the file's length is not the announced `size`.
pub(super) fn encrypt_into(
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

/// Hashes and counts the plaintext as the encryptor reads it.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_changes_length_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("quote.pdf");
        std::fs::write(&src, vec![7u8; 1000]).unwrap();
        let (tx, _rx) = tokio::sync::mpsc::channel(1024);
        let err = encrypt_into(&src, 999, &tx).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
    }
}
