//! The app's first story, headless against a real Synapse: onboarding and login, start a
//! chat, send a message that the customer's client really receives, see the customer's
//! answer arrive in the conversation, send a quote file, save the file the customer sends
//! back, and find the chat up to date in the list.

use std::time::Duration;

use crate::support::*;
use i_slint_backend_testing::AccessibleRole;
use kontor::ui::{Chats, Conversation, Delivery, Language, Screen, Session};
use kontor_core::MessageBody;
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};

pub fn onboarding_login_send_and_receive() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let ben = hs.register_unique("ben").expect("ben");
    let url = hs.base_url.clone();
    let h = Harness::new();
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);

    // The customer: a plain kontor-core client, logged in on the side.
    let ben_client = h.spawn_login(&url, &ben.user_id, &ben.password);

    run_story(async move {
        // A fresh data directory starts with onboarding.
        wait_for("onboarding", 10, || {
            (app.window.global::<Session>().get_screen() == Screen::Onboarding).then_some(())
        })
        .await;
        fill(&app, "Homeserver", &url).await;
        fill(&app, "User name", &anna.user_id).await;
        fill(&app, "Password", &anna.password).await;
        press(&app, "Next").await;
        fill(&app, "Passphrase", "anna passphrase").await;
        fill(&app, "Repeat passphrase", "anna passphrase").await;
        press(&app, "Log in").await;
        wait_for("the chat list", 60, || {
            (app.window.global::<Session>().get_screen() == Screen::Chats).then_some(())
        })
        .await;
        assert_eq!(app.window.global::<Session>().get_user_id(), anna.user_id);
        assert!(
            h.dir.path().join("profile/profile.json").exists(),
            "profile where the CLI expects it"
        );

        // Start a chat with ben and write to him.
        let ben_client = ben_client.await.expect("ben task");
        fill(&app, "Matrix ID", &ben.user_id).await;
        press(&app, "Start chat").await;
        wait_for("the conversation", 30, || {
            (app.window.global::<Session>().get_screen() == Screen::Conversation).then_some(())
        })
        .await;
        fill(&app, "Message", "Guten Tag, hier das Angebot").await;
        press(&app, "Send").await;
        wait_for("own bubble", 10, || {
            shows_text(&app, "Guten Tag, hier das Angebot").then_some(())
        })
        .await;
        wait_for("delivery report", 30, || {
            shows_text(&app, "Sent").then_some(())
        })
        .await;
        let model = app.window.global::<Conversation>().get_messages();
        assert_eq!(
            model.row_count(),
            1,
            "one bubble, no duplicate from the echo"
        );
        assert_eq!(model.row_data(0).unwrap().delivery, Delivery::Sent);
        assert!(model.row_data(0).unwrap().own);

        // ben's client really got it: accept the invitation and read the room.
        let ben_k = ben_client.clone();
        let got = on_tokio(&h.rt, async move {
            let room = loop {
                ben_k.sync_once().await.expect("ben sync");
                if let Some((room, _)) = ben_k.invites().await.expect("invites").pop() {
                    break room;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            };
            ben_k.accept_invite(&room).await.expect("accept");
            for _ in 0..50 {
                ben_k.sync_once().await.expect("ben sync");
                let msgs = ben_k.messages(&room, 20).await.expect("messages");
                if let Some(text) = msgs.iter().find_map(|m| match &m.body {
                    MessageBody::Text { text, .. } if !m.own => Some(text.clone()),
                    _ => None,
                }) {
                    return (room, text);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            panic!("ben never read anna's message");
        })
        .await;
        assert_eq!(got.1, "Guten Tag, hier das Angebot");

        // ben answers; the open conversation shows it.
        let (ben_k, room) = (ben_client.clone(), got.0.clone());
        on_tokio(&h.rt, async move {
            ben_k
                .send_text(&room, "Danke, passt!")
                .await
                .expect("ben sends");
        })
        .await;
        wait_for("ben's answer", 30, || {
            shows_text(&app, "Danke, passt!").then_some(())
        })
        .await;
        let model = app.window.global::<Conversation>().get_messages();
        let answer = model.iter().find(|m| m.text == "Danke, passt!").unwrap();
        assert!(!answer.own);

        // Send a quote: the file picker, a typed path, the file bubble; ben gets the file.
        let quote = h.dir.path().join("angebot-2025-031.pdf");
        std::fs::write(&quote, vec![b'%'; 300_000]).expect("quote file");
        press(&app, "Send file").await;
        fill(&app, "File name", quote.to_str().unwrap()).await;
        press(&app, "Open").await;
        wait_for("file bubble", 30, || {
            shows_text(&app, "angebot-2025-031.pdf").then_some(())
        })
        .await;
        let (ben_k, room) = (ben_client.clone(), got.0.clone());
        let size = on_tokio(&h.rt, async move {
            for _ in 0..50 {
                ben_k.sync_once().await.expect("ben sync");
                let msgs = ben_k.messages(&room, 20).await.expect("messages");
                if let Some(size) = msgs.iter().find_map(|m| match &m.body {
                    MessageBody::File { name, size, .. } if name == "angebot-2025-031.pdf" => {
                        Some(*size)
                    }
                    _ => None,
                }) {
                    return size;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            panic!("ben never got the quote");
        })
        .await;
        assert_eq!(size, Some(300_000));
        assert!(
            app.window.global::<Conversation>().get_upload_progress() < 0.0,
            "the progress bar is gone once the upload is done"
        );

        // ben sends the signed quote back; anna saves it ("Save as …") into her download folder.
        let signed = h.dir.path().join("unterschrift.pdf");
        std::fs::write(&signed, b"%PDF signed by ben").expect("signed file");
        let (ben_k, room) = (ben_client.clone(), got.0.clone());
        on_tokio(&h.rt, async move {
            ben_k
                .send_file(&room, &signed, None)
                .await
                .expect("ben sends a file");
        })
        .await;
        let save = wait_for("the save button", 30, || {
            find(&app, "Save file as", AccessibleRole::Button)
                .into_iter()
                .find(|b| b.accessible_description().as_deref() == Some("unterschrift.pdf"))
        })
        .await;
        save.invoke_accessible_default_action();
        let downloads = h.dir.path().join("downloads");
        std::fs::create_dir_all(&downloads).expect("download folder");
        fill(
            &app,
            "File name",
            downloads.join("unterschrift.pdf").to_str().unwrap(),
        )
        .await;
        press(&app, "Save").await;
        let conv = app.window.global::<Conversation>();
        wait_for("saved", 30, || {
            (!conv.get_saved_path().is_empty()).then_some(())
        })
        .await;
        let saved = h.dir.path().join("downloads/unterschrift.pdf");
        assert_eq!(conv.get_saved_path(), saved.display().to_string());
        assert_eq!(std::fs::read(&saved).unwrap(), b"%PDF signed by ben");

        // Back in the list, the chat shows the last file as its last message, read.
        press(&app, "Back").await;
        let chats = app.window.global::<Chats>().get_chats();
        let chat = wait_for("chat row", 10, || {
            chats.iter().find(|c| c.room_id == got.0.as_str())
        })
        .await;
        assert_eq!(chat.last_message, "unterschrift.pdf");
        assert_eq!(chat.last_kind, kontor::ui::MessageKind::File);
        assert_eq!(chat.unread, 0);
        assert!(
            find(&app, &chat.name, AccessibleRole::Button)
                .iter()
                .any(|e| e.accessible_description().as_deref() == Some("unterschrift.pdf")),
            "the row shows the last message"
        );

        // Search filters the list by name or last message.
        fill(&app, "Search chats", "nobody-by-this-name").await;
        wait_for("empty search result", 5, || {
            shows_text(&app, "No chat matches.").then_some(())
        })
        .await;
        assert_eq!(chats.row_count(), 0);
        fill(&app, "Search chats", "UNTERSCHRIFT").await;
        wait_for("the chat again", 5, || {
            (chats.row_count() == 1).then_some(())
        })
        .await;
        app.shutdown().await;
    });
    drop(hs);
}
