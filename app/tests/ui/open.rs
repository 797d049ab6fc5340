//! Opening a chat shows what the device already has at once, without waiting for the
//! homeserver: headless against a real Synapse that is frozen (SIGSTOP) while the chat
//! is opened, so a page that needed the network could not arrive.

use std::time::Duration;

use crate::support::*;
use kontor::ui::{Chats, Conversation, Language, Screen, Session};
use kontor_core::SendState;
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};

fn texts(app: &kontor::ui::App) -> Vec<String> {
    app.window
        .global::<Conversation>()
        .get_messages()
        .iter()
        .map(|m| m.text.to_string())
        .collect()
}

pub fn a_chat_opens_from_the_device_while_the_homeserver_does_not_answer() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let ben = hs.register_unique("ben").expect("ben");
    let url = hs.base_url.clone();
    let h = Harness::new();
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);

    let ben_client = h.spawn_login(&url, &ben.user_id, &ben.password);

    run_story(async move {
        onboard(&app, &url, &anna.user_id, &anna.password, "anna passphrase").await;
        let ben_k = ben_client.await.expect("ben task");
        let (room, _) = chat_from(&h, &app, &ben_k, &anna.user_id).await;
        let chats = app.window.global::<Chats>().get_chats();

        // Once anna is in, ben writes three messages; anna's sync brings them.
        let (k, r, anna_id) = (ben_k.clone(), room.clone(), anna.user_id.clone());
        on_tokio(&h.rt, async move {
            until_joined(&k, &r, &anna_id, 300).await;
            let mut last = String::new();
            for text in ["Guten Tag", "Haben Sie das Angebot?", "Danke!"] {
                last = k.send_text(&r, text).await.expect("queue");
            }
            match k.wait_sent(&r, &last, Duration::from_secs(120)).await {
                Ok(SendState::Sent { .. }) => {}
                other => panic!("not sent: {other:?}"),
            }
        })
        .await;
        wait_for("the chat with ben's messages", 60, || {
            chats
                .iter()
                .find(|c| !c.invite && c.room_id == room.as_str() && c.last_message == "Danke!")
        })
        .await;

        // The homeserver stops answering; the chat still opens with those messages.
        hs.pause().expect("pause synapse");
        app.window
            .global::<Chats>()
            .invoke_open(room.as_str().into());
        let conv = app.window.global::<Conversation>();
        wait_for("the messages this device has", 10, || {
            (app.window.global::<Session>().get_screen() == Screen::Conversation
                && !conv.get_loading()
                && texts(&app).ends_with(&[
                    "Guten Tag".to_owned(),
                    "Haben Sie das Angebot?".to_owned(),
                    "Danke!".to_owned(),
                ]))
            .then_some(())
        })
        .await;
        // Paging back needs the server's token: nothing claims the history is complete.
        assert!(!conv.get_history_complete());

        // Once the server answers again, its page takes over: the same messages, once.
        hs.resume().expect("resume synapse");
        wait_for("the server's page", 90, || {
            let t = texts(&app);
            (t.iter().filter(|m| *m == "Danke!").count() == 1 && conv.get_history_complete())
                .then_some(())
        })
        .await;
        assert_eq!(
            texts(&app),
            ["Guten Tag", "Haben Sie das Angebot?", "Danke!"],
            "three messages, oldest first, none twice"
        );
    });
}
