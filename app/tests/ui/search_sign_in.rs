//! A new device's search index follows every chat, not only the first window: sliding
//! sync shows the list 20 chats per answer, and the index's run after sign-in used to
//! start with the chats known at that moment (40 of 100 in the app bench) and follow the
//! rest only after the next unlock. The account has more chats than three windows; the
//! new device signs in through onboarding and its first run must end following all.

use crate::support::*;
use kontor::ui::Language;
use kontor_testkit::Synapse;

const CHATS: usize = 65;

pub fn a_new_device_indexes_every_chat_not_only_the_first_window() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let customers: Vec<String> = (0..CHATS)
        .map(|i| {
            hs.register_unique(&format!("kunde{i:02}"))
                .expect("customer")
                .user_id
        })
        .collect();
    let h = Harness::new();
    // Anna's first device opens the chats.
    let first =
        h.rt.block_on(h.spawn_login(&hs.base_url, &anna.localpart, &anna.password))
            .expect("first device");
    h.rt.block_on(async {
        let t = std::time::Instant::now();
        for id in &customers {
            first.open_dm(id).await.expect("open_dm");
        }
        eprintln!("{CHATS} chats opened in {:.1} s", t.elapsed().as_secs_f64());
        first.shutdown().await;
    });

    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);
    let (url, user, pw) = (
        hs.base_url.clone(),
        anna.user_id.clone(),
        anna.password.clone(),
    );
    run_story(async move {
        let progress = app.service().search_progress();
        onboard(&app, &url, &user, &pw, "anna passphrase").await;
        // The run after sign-in, to its end: how many chats the index follows then.
        let followed = wait_for("the search run after sign-in to end", 180, || {
            let s = progress.borrow().clone();
            (!s.running && s.chats > 0 && s.chats_complete == s.chats).then_some(s.chats)
        })
        .await;
        assert_eq!(followed, CHATS, "chats the search index follows");
        app.shutdown().await;
    });
}
