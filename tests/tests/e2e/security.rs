//! SAS (emoji) verification, both sides, and key backup with a recovery key.

use std::time::Duration;

use kontor_core::MessageBody;
use kontor_testkit::Synapse;

use crate::common::*;

const T: Duration = Duration::from_secs(60);

/// Trust is written to the crypto store just after the flow reports done.
async fn eventually_verified(k: &kontor_core::Kontor, user: &str, device: &str) -> bool {
    for _ in 0..50 {
        if k.is_device_verified(user, device).await.unwrap() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[test]
fn sas_verification_between_two_devices_of_one_user() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    run(async {
        let laptop = login(&hs, &a, &dirs.path().join("laptop")).await;
        let phone = login(&hs, &a, &dirs.path().join("phone")).await;
        laptop.start_sync();
        phone.start_sync();
        let user = laptop.user_id();
        let laptop_device = laptop.device_id();
        assert!(
            !phone
                .is_device_verified(&user, &laptop_device)
                .await
                .unwrap()
        );

        // The laptop only starts listening after the request has already reached it
        // (a user who runs `kontor verify accept` once the phone asked): it must still
        // find that request.
        let (asked, answered) = tokio::join!(
            phone.request_verification(&user, Some(&laptop_device), T),
            async {
                tokio::time::sleep(Duration::from_secs(4)).await;
                laptop.accept_verification(Some(&user), T).await
            },
        );
        let (asked, answered) = (asked.expect("request"), answered.expect("accept"));
        let (e1, e2) = tokio::join!(asked.emojis(T), answered.emojis(T));
        let (e1, e2) = (e1.unwrap(), e2.unwrap());
        assert_eq!(e1.len(), 7);
        assert_eq!(e1, e2, "both sides must show the same emojis");
        let (c1, c2) = tokio::join!(asked.confirm(T), answered.confirm(T));
        c1.expect("phone confirms");
        c2.expect("laptop confirms");
        assert!(eventually_verified(&phone, &user, &laptop_device).await);
        assert!(eventually_verified(&laptop, &user, &phone.device_id()).await);
    });
}

#[test]
fn sas_verification_between_two_users() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    run(async {
        let anna = login(&hs, &a, &dirs.path().join("a")).await;
        let ben = login(&hs, &b, &dirs.path().join("b")).await;
        let _room = dm(&anna, &ben).await;
        anna.start_sync();
        ben.start_sync();
        let ben_id = ben.user_id();
        let anna_id = anna.user_id();
        let (asked, answered) = tokio::join!(
            async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                anna.request_verification(&ben_id, None, T).await
            },
            ben.accept_verification(Some(&anna_id), T),
        );
        let (asked, answered) = (asked.expect("request"), answered.expect("accept"));
        let (e1, e2) = tokio::join!(asked.emojis(T), answered.emojis(T));
        assert_eq!(e1.unwrap(), e2.unwrap());
        let (c1, c2) = tokio::join!(asked.confirm(T), answered.confirm(T));
        c1.unwrap();
        c2.unwrap();
        assert!(eventually_verified(&anna, &ben_id, &ben.device_id()).await);
        assert!(eventually_verified(&ben, &anna_id, &anna.device_id()).await);
    });
}

#[test]
fn mismatching_emojis_cancel_the_verification() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    run(async {
        let laptop = login(&hs, &a, &dirs.path().join("laptop")).await;
        let phone = login(&hs, &a, &dirs.path().join("phone")).await;
        laptop.start_sync();
        phone.start_sync();
        let user = laptop.user_id();
        let dev = laptop.device_id();
        let (asked, answered) = tokio::join!(
            async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                phone.request_verification(&user, Some(&dev), T).await
            },
            laptop.accept_verification(Some(&user), T),
        );
        let (asked, answered) = (asked.unwrap(), answered.unwrap());
        let (e1, e2) = tokio::join!(asked.emojis(T), answered.emojis(T));
        e1.unwrap();
        e2.unwrap();
        answered.mismatch().await.unwrap();
        let err = asked.confirm(T).await.unwrap_err();
        assert!(
            matches!(err, kontor_core::Error::Verification(_)),
            "{err:?}"
        );
        assert!(!phone.is_device_verified(&user, &dev).await.unwrap());
    });
}

#[test]
fn recovery_key_restores_history_on_a_new_device() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    run(async {
        let anna = login(&hs, &a, &dirs.path().join("a-old")).await;
        let ben = login(&hs, &b, &dirs.path().join("b")).await;
        let room = dm(&anna, &ben).await;
        let key = anna.enable_recovery().await.expect("enable recovery");
        assert!(
            key.split_whitespace().count() >= 8,
            "looks like a recovery key: {key}"
        );

        let mut anna_rx = anna.subscribe();
        anna.start_sync();
        ben.start_sync();
        ben.send_text(&room, "alte Nachricht 1").await.unwrap();
        ben.send_text(&room, "alte Nachricht 2").await.unwrap();
        wait_texts(&anna, &mut anna_rx, 2, T).await;
        anna.wait_for_backup().await.unwrap();

        // A new device: without the key the old messages are unreadable …
        let fresh = login(&hs, &a, &dirs.path().join("a-new")).await;
        let before = fresh.messages(&room, 20).await.unwrap();
        assert!(
            before.iter().any(|m| m.body == MessageBody::Undecryptable),
            "{before:?}"
        );
        // … a wrong key is refused …
        let err = fresh
            .recover("EsTj 3yST y93F SLpB jJsz eAXc 2XzA ygD3 w69H fGaN TKBj jXEd")
            .await
            .unwrap_err();
        assert!(matches!(err, kontor_core::Error::Recovery(_)), "{err:?}");
        // … and the right one brings the history back.
        fresh.recover(&key).await.expect("recover");
        let after = fresh.messages(&room, 20).await.unwrap();
        let texts: Vec<_> = after
            .iter()
            .filter_map(|m| match &m.body {
                MessageBody::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, ["alte Nachricht 1", "alte Nachricht 2"]);
    });
}
