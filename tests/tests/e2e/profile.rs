//! The local profile: passphrase, restore without password, logout.

use std::{collections::BTreeMap, path::Path};

use kontor_core::{Error, Kontor, Profile};
use kontor_testkit::Synapse;

use crate::common::*;

fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in walk(dir) {
        out.insert(e.display().to_string(), std::fs::read(&e).unwrap());
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            v.extend(walk(&p))
        } else {
            v.push(p)
        }
    }
    v
}

#[test]
fn wrong_passphrase_touches_nothing_and_the_right_one_restores_the_session() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let dir = dirs.path().join("a");
    run(async {
        let anna = login(&hs, &a, &dir).await;
        let user = anna.user_id();
        let device = anna.device_id();
        drop(anna);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;

        let before = snapshot(&dir);
        assert!(
            before.keys().any(|k| k.contains("store")),
            "the SQLite stores exist"
        );
        let err = Profile::open(&dir, "not the passphrase").unwrap_err();
        assert!(matches!(err, Error::WrongPassphrase), "{err:?}");
        assert_eq!(
            before,
            snapshot(&dir),
            "a wrong passphrase must not change a byte"
        );

        // The stores themselves are encrypted: the user id is not readable in them.
        for (path, bytes) in &before {
            if path.contains("store") {
                // One known exception: matrix-sdk keeps the sliding-sync position in the
                // crypto store under a plain key naming the account
                // (`sliding_sync_store::<conn>::<user id>::instance`; the value is
                // encrypted). Everything else must not name it.
                let sdk_key = format!("sliding_sync_store::kontor::{}::instance", a.user_id);
                let mut bytes = bytes.clone();
                while let Some(at) = bytes
                    .windows(sdk_key.len())
                    .position(|w| w == sdk_key.as_bytes())
                {
                    bytes.drain(at..at + sdk_key.len());
                }
                let needle = a.localpart.as_bytes();
                if let Some(at) = bytes.windows(needle.len()).position(|w| w == needle) {
                    let around = &bytes[at.saturating_sub(80)..(at + 80).min(bytes.len())];
                    panic!(
                        "user name readable in {path}: {:?}",
                        String::from_utf8_lossy(around)
                    );
                }
            }
        }

        let again = restore(&dir).await;
        assert_eq!(again.user_id(), user);
        assert_eq!(
            again.device_id(),
            device,
            "restore keeps the device (no new login)"
        );
        again
            .sync_once()
            .await
            .expect("restored session works against the server");

        // A second login on a logged-in profile is refused rather than clobbering it.
        let p = Profile::open(&dir, PASS).unwrap();
        drop(again);
        let err = Kontor::login(p, &hs.base_url, &a.localpart, &a.password)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::AlreadyLoggedIn(_)), "{err:?}");
    });
}

#[test]
fn logout_wipes_the_profile_and_ends_the_session_on_the_server() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let dir = dirs.path().join("a");
    run(async {
        let anna = login(&hs, &a, &dir).await;
        let token = anna.sdk_client().access_token().unwrap();
        anna.logout(false).await.expect("logout");
        assert!(!dir.exists(), "profile directory must be gone");
        let url = format!("{}/_matrix/client/v3/account/whoami", hs.base_url);
        let status = tokio::task::spawn_blocking(move || match ureq_get(&url, &token) {
            Ok(s) | Err(s) => s,
        })
        .await
        .unwrap();
        assert_eq!(status, 401, "the old access token must be dead");
    });
}

fn ureq_get(url: &str, token: &str) -> Result<u16, u16> {
    match ureq::get(url)
        .set("Authorization", &format!("Bearer {token}"))
        .call()
    {
        Ok(r) => Ok(r.status()),
        Err(ureq::Error::Status(code, _)) => Err(code),
        Err(_) => Err(0),
    }
}

/// The chat list read from the SDK's stores is kept sealed in the profile, so the next
/// unlock shows it at once (issue 15); the file gives nothing away and a damaged one is
/// ignored and rewritten, never an error.
#[test]
fn the_chat_list_is_stored_sealed_and_read_back_after_unlock() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("kunde").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let dir = dirs.path().join("a");
    let preview = "Angebot Kellertreppe Eiche";
    run(async {
        let anna = login(&hs, &a, &dir).await;
        let kunde = login(&hs, &b, &dirs.path().join("b")).await;
        assert!(anna.stored_chats().is_empty(), "a new profile has no list");
        let room = dm(&anna, &kunde).await;
        let txn = anna.send_text(&room, preview).await.unwrap();
        anna.wait_sent(&room, &txn, std::time::Duration::from_secs(20))
            .await
            .unwrap();
        anna.sync_once().await.unwrap();
        let chats = anna.chats().await.unwrap();
        let ours = chats.iter().find(|c| c.room_id == room).expect("the chat");
        assert_eq!(
            ours.last.as_ref().map(|m| text(m).to_owned()).as_deref(),
            Some(preview)
        );
        drop(anna);
        drop(kunde);

        // Sealed, owner-only: neither the preview, the room, nor the partner is readable.
        let file = dir.join("chats.enc");
        let bytes = std::fs::read(&file).expect("the list is stored");
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{file:?}");
        }
        for needle in [preview, room.as_str(), b.localpart.as_str()] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle:?} readable in {file:?}"
            );
        }

        // Unlocked again: the same list, before any read of the SDK's stores.
        let again = restore(&dir).await;
        assert_eq!(again.stored_chats(), chats);

        // Damaged: ignored (no error, no list), and the next read stores it again.
        let mut damaged = bytes.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 0x55;
        std::fs::write(&file, &damaged).unwrap();
        assert!(again.stored_chats().is_empty());
        let read = again.chats().await.unwrap();
        assert_eq!(
            read.first().map(|c| c.room_id.as_str()),
            Some(room.as_str())
        );
        assert_eq!(again.stored_chats(), read);
    });
}
