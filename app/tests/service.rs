//! The session service (`kontor::service`) against a real Synapse, without a window:
//! sign-out is deterministic (it cancels and awaits the account's tasks, then logs out and
//! deletes the profile; no polling, no timing luck), and the discovery gate holds while
//! signed in.
//!
//! Each test gets its own homeserver, user and data directory; the service runs on a
//! multi-thread runtime of the test's own, as in the app.

use std::{future::Future, sync::Arc, time::Duration};

use kontor::service::{Service, ServiceConfig, ServiceError};
use kontor_testkit::Synapse;
use zeroize::Zeroizing;

const PASSPHRASE: &str = "correct horse battery staple";

/// The runtime the service works on, a fresh data directory and a homeserver. Fields
/// drop in this order: the runtime's tasks end before their files and their server go.
struct Fixture {
    rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    hs: Synapse,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            rt: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime"),
            dir: tempfile::tempdir().expect("temp dir"),
            hs: Synapse::start().expect("synapse"),
        }
    }

    /// A service for the data directory, with cheap key derivation for the new profile.
    fn service(&self) -> Arc<Service> {
        Service::new(
            ServiceConfig {
                data_dir: self.dir.path().to_owned(),
                insecure_fast_kdf: true,
            },
            self.rt.handle().clone(),
        )
    }

    /// Runs `test` on the runtime; it gives up after `secs` seconds instead of hanging.
    fn run(&self, secs: u64, test: impl Future<Output = ()>) {
        self.rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(secs), test).await })
            .expect("the test finished in time");
    }
}

/// Logs a fresh user in through `service` (creating the profile) and starts the sync.
async fn sign_in(hs: &Synapse, service: &Service) {
    let user = hs.register_unique("anna").expect("register");
    service
        .login(
            &hs.base_url,
            &user.user_id,
            Zeroizing::new(user.password.clone()),
            Zeroizing::new(PASSPHRASE.to_owned()),
        )
        .await
        .map_err(|f| f.error)
        .expect("login");
    assert!(service.signed_in());
    assert!(service.start().is_some(), "the sync starts");
}

#[test]
fn sign_out_cancels_tasks_holding_the_account_and_deletes_the_profile() {
    let f = Fixture::new();
    let service = f.service();
    let profile = f.dir.path().join("profile");
    f.run(120, async {
        sign_in(&f.hs, &service).await;
        assert!(profile.is_dir(), "login created the profile");

        // A task that would hold the account for a minute (a long download, a
        // verification waiting for the other side); it has started before sign-out.
        let (started_tx, started) = tokio::sync::oneshot::channel();
        assert!(service.spawn(|kontor| async move {
            let _ = started_tx.send(());
            tokio::time::sleep(Duration::from_secs(60)).await;
            drop(kontor);
        }));
        started.await.expect("the task started");

        tokio::time::timeout(Duration::from_secs(30), service.sign_out())
            .await
            .expect("sign-out does not wait for the task's minute")
            .expect("sign-out succeeds");

        assert!(!profile.exists(), "the profile is deleted");
        assert!(!service.signed_in());
        assert!(
            !service.spawn(|_| async {}),
            "no task starts after sign-out"
        );
        assert!(matches!(
            service.sign_out().await,
            Err(ServiceError::NotSignedIn)
        ));
    });
}

#[test]
fn discovery_switched_off_is_refused_while_signed_in() {
    let f = Fixture::new();
    let service = f.service();
    f.run(120, async {
        sign_in(&f.hs, &service).await;

        let (settings, save) = service.change_settings(|s| s.discovery = false);
        assert!(!settings.discovery);
        save.await.expect("settings saved");
        let (saved, warning) = service.load_settings().await;
        assert!(warning.is_none() && !saved.discovery, "saved as off");

        // Even a server chosen for this run is not asked.
        let result = service.discover(Some("http://127.0.0.1:9")).await;
        assert!(
            matches!(result, Err(ServiceError::DiscoveryOff)),
            "{result:?}"
        );
        assert!(service.signed_in(), "the refusal leaves the account alone");

        service.shutdown().await;
    });
}
