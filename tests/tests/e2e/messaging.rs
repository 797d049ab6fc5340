//! Text and files between two Kontor clients, and what the server gets to see.

use std::time::Duration;

use kontor_core::{MessageBody, SendState};
use kontor_testkit::Synapse;

use crate::common::*;

#[test]
fn two_users_exchange_text_both_ways() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    run(async {
        let anna = login(&hs, &a, &dirs.path().join("a")).await;
        let ben = login(&hs, &b, &dirs.path().join("b")).await;
        let room = dm(&anna, &ben).await;
        let mut anna_rx = anna.subscribe();
        let mut ben_rx = ben.subscribe();
        anna.start_sync();
        ben.start_sync();

        let txn = anna
            .send_text(&room, "Guten Tag, hier ist Ihr Angebot")
            .await
            .unwrap();
        let state = anna
            .wait_sent(&room, &txn, Duration::from_secs(20))
            .await
            .unwrap();
        assert!(matches!(state, SendState::Sent { .. }), "{state:?}");
        let got = wait_texts(&ben, &mut ben_rx, 1, Duration::from_secs(20)).await;
        assert_eq!(text(&got[0]), "Guten Tag, hier ist Ihr Angebot");
        assert_eq!(got[0].sender, anna.user_id());

        ben.send_text(&room, "Danke, passt! Grüße").await.unwrap();
        let got = wait_texts(&anna, &mut anna_rx, 1, Duration::from_secs(20)).await;
        assert_eq!(text(&got[0]), "Danke, passt! Grüße");

        // History reads back decrypted, in order, on both sides.
        let hist = ben.messages(&room, 20).await.unwrap();
        let texts: Vec<_> = hist
            .iter()
            .filter_map(|m| match &m.body {
                MessageBody::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            texts,
            ["Guten Tag, hier ist Ihr Angebot", "Danke, passt! Grüße"]
        );
    });
}
