//! Files in the app, headless against a real Synapse: "send quote" through the file
//! picker (ben receives the very bytes), cancelling a big upload in flight (a notice, and
//! ben never gets a file), and "Save as …" of ben's file, which writes a byte-identical
//! copy and asks before it replaces an existing file, and "Open", which hands a decrypted
//! copy in the private cache to the desktop's opener and says so when there is none.

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use crate::support::*;
use i_slint_backend_testing::AccessibleRole;
use kontor::ui::{Conversation, FilePicker, Language, Screen, Session};
use kontor_core::{Kontor, MessageBody};
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};

/// ben's view of the room: the file events (event id, name, size) he has.
async fn ben_files(ben: &Arc<Kontor>, room: &str) -> Vec<(String, String, Option<u64>)> {
    ben.sync_once().await.expect("ben sync");
    ben.messages(room, 50)
        .await
        .expect("messages")
        .into_iter()
        .filter_map(|m| match m.body {
            MessageBody::File { name, size, .. } => Some((m.event_id?, name, size)),
            _ => None,
        })
        .collect()
}

fn picker_shows(app: &kontor::ui::App, name: &str) -> bool {
    app.window
        .global::<FilePicker>()
        .get_entries()
        .iter()
        .any(|e| e.name == name)
}

/// Puts a stand-in for the desktop's `xdg-open` first on `PATH`: it records the path it
/// was given in `<dir>/opened`, or fails (as xdg-open does without a viewer for the type)
/// while `<dir>/fail` exists. The app still runs `xdg-open` by name, as it does for users;
/// only the desktop behind it is replaced, since a headless machine has no viewer.
#[allow(unsafe_code)]
fn fake_opener(dir: &Path) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("xdg-open");
    let d = dir.display();
    std::fs::write(
        &script,
        format!("#!/bin/sh\n[ -e '{d}/fail' ] && exit 3\nprintf '%s\\n' \"$1\" >> '{d}/opened'\n"),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    // Before any other thread runs: the story runs alone in its process (see main.rs).
    unsafe { std::env::set_var("PATH", format!("{}:{path}", bin.display())) };
}

pub fn send_quote_cancel_and_save_as_through_the_picker() {
    let opener = tempfile::tempdir().expect("opener dir");
    fake_opener(opener.path());
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let ben = hs.register_unique("ben").expect("ben");
    let url = hs.base_url.clone();
    let h = Harness::new();
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);

    let ben_dir = tempfile::tempdir().expect("ben dir");
    let ben_client = h.spawn_login(&url, &ben.user_id, &ben.password);
    let quotes = h.dir.path().join("Angebote");
    std::fs::create_dir_all(&quotes).unwrap();
    let quote: Vec<u8> = (0..700_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(quotes.join("angebot-2025-040.pdf"), &quote).unwrap();
    std::fs::write(quotes.join("gross.pdf"), vec![7u8; 60 * 1024 * 1024]).unwrap();

    run_story(async move {
        onboard(&app, &url, &anna.user_id, &anna.password, "anna passphrase").await;
        let ben_k = ben_client.await.expect("ben task");
        fill(&app, "Matrix ID", &ben.user_id).await;
        press(&app, "Start chat").await;
        wait_for("the conversation", 30, || {
            (app.window.global::<Session>().get_screen() == Screen::Conversation).then_some(())
        })
        .await;
        let room = {
            let ben_k = ben_k.clone();
            on_tokio(&h.rt, async move {
                loop {
                    ben_k.sync_once().await.expect("ben sync");
                    if let Some((room, _)) = ben_k.invites().await.expect("invites").pop() {
                        ben_k.accept_invite(&room).await.expect("accept");
                        return room;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
            .await
        };
        // anna must see ben's join before the file's room key is shared with him.
        fill(&app, "Message", "Hallo Ben").await;
        press(&app, "Send").await;
        wait_for("delivery", 30, || shows_text(&app, "Sent").then_some(())).await;

        // Send quote: the picker opens; type the folder, then choose the file's row.
        press(&app, "Send file").await;
        fill(&app, "File name", quotes.to_str().unwrap()).await;
        press(&app, "Open").await;
        wait_for("the folder's files", 10, || {
            picker_shows(&app, "angebot-2025-040.pdf").then_some(())
        })
        .await;
        let row = find(&app, "angebot-2025-040.pdf", AccessibleRole::Button);
        assert_eq!(row[0].accessible_description().as_deref(), Some("700 kB"));
        row[0].invoke_accessible_default_action();
        let (ben2, room2) = (ben_k.clone(), room.clone());
        let (event_id, size) = on_tokio(&h.rt, async move {
            for _ in 0..100 {
                if let Some((e, _, s)) = ben_files(&ben2, &room2)
                    .await
                    .into_iter()
                    .find(|(_, n, _)| n == "angebot-2025-040.pdf")
                {
                    return (e, s);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            panic!("ben never got the quote");
        })
        .await;
        assert_eq!(size, Some(700_000));
        let got = ben_dir.path().join("got.pdf");
        let (ben2, got2) = (ben_k.clone(), got.clone());
        on_tokio(&h.rt, async move {
            ben2.download(&event_id, &got2)
                .await
                .expect("ben downloads");
        })
        .await;
        assert_eq!(
            std::fs::read(&got).unwrap(),
            quote,
            "ben has the very bytes"
        );
        wait_for("the card with its size", 30, || {
            shows_text(&app, "700 kB").then_some(())
        })
        .await;

        // A big quote, cancelled while it uploads: a notice, and no file for ben.
        press(&app, "Send file").await;
        wait_for("the picker in the last folder", 10, || {
            picker_shows(&app, "gross.pdf").then_some(())
        })
        .await;
        press(&app, "gross.pdf").await;
        let conv = app.window.global::<Conversation>();
        wait_for("upload progress", 30, || {
            (conv.get_upload_progress() > 0.0).then_some(())
        })
        .await;
        press(&app, "Cancel upload").await;
        wait_for("the cancel notice", 30, || {
            shows_text(&app, "Sending cancelled: the file was not sent.").then_some(())
        })
        .await;
        assert!(conv.get_upload_progress() < 0.0, "back to idle");
        assert_eq!(
            app.window.global::<Session>().get_error(),
            kontor::ui::ErrorKind::None
        );
        fill(&app, "Message", "Nach dem Abbruch").await;
        press(&app, "Send").await;
        let (ben2, room2) = (ben_k.clone(), room.clone());
        on_tokio(&h.rt, async move {
            for _ in 0..100 {
                ben2.sync_once().await.expect("ben sync");
                let msgs = ben2.messages(&room2, 50).await.expect("messages");
                if msgs.iter().any(
                    |m| matches!(&m.body, MessageBody::Text { text, .. } if text == "Nach dem Abbruch"),
                ) {
                    let files = ben_files(&ben2, &room2).await;
                    assert!(
                        files.iter().all(|(_, n, _)| n != "gross.pdf"),
                        "the cancelled file reached ben: {files:?}"
                    );
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            panic!("the message after the cancel never arrived");
        })
        .await;

        // ben sends a signed copy; anna saves it with "Save as …".
        let signed: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 256) as u8).collect();
        let signed_src = ben_dir.path().join("unterschrieben.pdf");
        std::fs::write(&signed_src, &signed).unwrap();
        let (ben2, room2) = (ben_k.clone(), room.clone());
        on_tokio(&h.rt, async move {
            ben2.send_file(&room2, &signed_src, None)
                .await
                .expect("ben sends");
        })
        .await;
        let save = wait_for("the save button", 30, || {
            find(&app, "Save file as", AccessibleRole::Button)
                .into_iter()
                .find(|b| b.accessible_description().as_deref() == Some("unterschrieben.pdf"))
        })
        .await;
        save.invoke_accessible_default_action();
        wait_for("the save picker", 10, || {
            (app.window.global::<FilePicker>().get_file_name() == "unterschrieben.pdf")
                .then_some(())
        })
        .await;
        let target = quotes.join("unterschrieben.pdf");
        std::fs::write(&target, b"older version").unwrap();
        fill(&app, "File name", target.to_str().unwrap()).await;
        press(&app, "Save").await;
        wait_for("the overwrite question", 10, || {
            find(&app, "Replace", AccessibleRole::Button)
                .into_iter()
                .next()
        })
        .await;
        press(&app, "Keep it").await;
        sleep(Duration::from_millis(300)).await;
        assert_eq!(std::fs::read(&target).unwrap(), b"older version", "kept");
        press(&app, "Save").await;
        press(&app, "Replace").await;
        wait_for("saved", 30, || {
            (conv.get_saved_path() == target.display().to_string()).then_some(())
        })
        .await;
        assert_eq!(std::fs::read(&target).unwrap(), signed, "byte-identical");
        assert_no_temp_left(&quotes);

        // "Open": a decrypted copy in the private cache (0600), handed to the opener.
        let open_button = || {
            find(&app, "Open file", AccessibleRole::Button)
                .into_iter()
                .find(|b| b.accessible_description().as_deref() == Some("unterschrieben.pdf"))
                .expect("the open button")
        };
        open_button().invoke_accessible_default_action();
        let log = opener.path().join("opened");
        let opened = wait_for("the opener", 30, || {
            std::fs::read_to_string(&log)
                .ok()
                .filter(|s| s.ends_with('\n'))
        })
        .await;
        let opened = PathBuf::from(opened.trim_end());
        assert!(
            opened.starts_with(h.dir.path().join("cache").join("open")),
            "{}",
            opened.display()
        );
        assert_eq!(opened.file_name().unwrap(), "unterschrieben.pdf");
        assert_eq!(
            std::fs::read(&opened).unwrap(),
            signed,
            "the decrypted file"
        );
        let mode = std::fs::metadata(&opened).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only the user reads it");
        assert_eq!(
            app.window.global::<Session>().get_error(),
            kontor::ui::ErrorKind::None
        );

        // No program for the file: the user is told, and pointed to "Save as …".
        std::fs::write(opener.path().join("fail"), b"").unwrap();
        open_button().invoke_accessible_default_action();
        wait_for("the cannot-open notice", 30, || {
            (app.window.global::<Session>().get_error() == kontor::ui::ErrorKind::CannotOpen)
                .then_some(())
        })
        .await;
        assert!(shows_text(
            &app,
            "No program to open this file was found. Use \"Save as …\" instead."
        ));
        assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
        app.shutdown().await;
    });
    drop(hs);
}

/// Neither the download's staging file nor anything else is left next to the target.
fn assert_no_temp_left(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".kontor-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
