//! The chat list comes from the device at once after unlock: a profile with 20 chats
//! (made by kontor-core, as an earlier run leaves it) is unlocked while the homeserver is
//! frozen (SIGSTOP), so anything that waited for the network could not show. Names,
//! previews and order must all be there; once the server answers again the list stays
//! as it was.

use crate::support::*;
use kontor::ui::{Chats, Language, Screen, Session};
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};

const PASS: &str = "anna passphrase";
const CHATS: usize = 20;

pub fn the_chat_list_shows_from_the_device_before_the_homeserver_answers() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let customers: Vec<_> = (0..CHATS)
        .map(|i| {
            hs.register_unique(&format!("kunde{i:02}"))
                .expect("customer")
        })
        .collect();
    let h = Harness::new();
    {
        let (data, url, user, pw) = (
            h.dir.path().to_owned(),
            hs.base_url.clone(),
            anna.localpart.clone(),
            anna.password.clone(),
        );
        let ids: Vec<String> = customers.iter().map(|c| c.user_id.clone()).collect();
        h.rt.block_on(async move {
            let k = login_app_profile(&data, &url, &user, &pw, PASS).await;
            for (i, id) in ids.iter().enumerate() {
                let room = k.open_dm(id).await.expect("open_dm");
                let txn = k
                    .send_text(&room, &format!("Angebot Nummer {i:02}"))
                    .await
                    .expect("send");
                k.wait_sent(&room, &txn, std::time::Duration::from_secs(60))
                    .await
                    .expect("sent");
            }
            // The device stores what the sync brought: the chats and their messages.
            k.sync_all().await.expect("sync");
            k.shutdown().await;
            std::mem::forget(k);
        });
    }
    // This device never showed its list (no `chats.enc`): the app reads the SDK's
    // stores, the slower of its two ways to show the list without the network (the
    // stored list is checked end to end in `profile.rs` and measured in the app bench).
    let stored = h.dir.path().join("profile").join("chats.enc");
    assert!(!stored.exists(), "no stored list before the app ran");
    // Frozen before the app starts: not one request is answered until resume.
    hs.pause().expect("pause synapse");
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);
    run_story(async move {
        let s = app.window.global::<Session>();
        wait_for("unlock", 10, || {
            (s.get_screen() == Screen::Unlock).then_some(())
        })
        .await;
        fill(&app, "Passphrase", PASS).await;
        press(&app, "Unlock").await;
        let chats = app.window.global::<Chats>().get_chats();
        let rows = wait_for("the 20 chats from the device", 10, || {
            let rows: Vec<(String, String)> = chats
                .iter()
                .filter(|c| !c.invite)
                .map(|c| (c.name.to_string(), c.last_message.to_string()))
                .collect();
            (s.get_screen() == Screen::Chats
                && rows.len() == CHATS
                && rows.iter().all(|(_, last)| !last.is_empty()))
            .then_some(rows)
        })
        .await;
        // Newest first, each with its partner's name and its last message.
        let expected: Vec<(String, String)> = (0..CHATS)
            .rev()
            .map(|i| {
                let c = &customers[i];
                (c.localpart.clone(), format!("Angebot Nummer {i:02}"))
            })
            .collect();
        assert_eq!(rows, expected);

        hs.resume().expect("resume synapse");
        // The sync goes on once the server answers: the list stays complete.
        sleep(std::time::Duration::from_secs(3)).await;
        let after: Vec<String> = chats
            .iter()
            .filter(|c| !c.invite)
            .map(|c| c.last_message.to_string())
            .collect();
        assert_eq!(after.len(), CHATS, "the list stays complete");
        // What the app showed is stored for the next unlock.
        assert!(stored.exists(), "the app stores the list it read");
        app.shutdown().await;
        drop(hs);
    });
}
