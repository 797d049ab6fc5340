//! The one owner of the account.
//!
//! Every task that uses the account is started through [`Owner::spawn`], which tracks it
//! and cancels it when the account is closed. [`Owner::close`] therefore returns exactly
//! when no task holds the account any more: sign-out is deterministic (before, the app
//! polled `Arc::strong_count` up to 50 times and gave up with "profile still in use").

use std::{
    future::Future,
    sync::{Arc, Mutex},
};

use tokio::runtime::Handle;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::lock;

/// Holds one value (the account) and the tasks that use it.
pub struct Owner<T> {
    slot: Mutex<Slot<T>>,
}

struct Slot<T> {
    value: Option<Arc<T>>,
    tasks: TaskTracker,
    cancel: CancellationToken,
}

impl<T: Send + Sync + 'static> Default for Owner<T> {
    fn default() -> Self {
        Owner {
            slot: Mutex::new(Slot {
                value: None,
                tasks: TaskTracker::new(),
                cancel: CancellationToken::new(),
            }),
        }
    }
}

impl<T: Send + Sync + 'static> Owner<T> {
    /// Takes `value` into ownership (after a login or unlock). A value already held is
    /// replaced; its tasks keep running until they end (callers close first).
    pub fn install(&self, value: Arc<T>) {
        let mut slot = lock(&self.slot);
        slot.value = Some(value);
        slot.tasks = TaskTracker::new();
        slot.cancel = CancellationToken::new();
    }

    /// Whether a value is held.
    pub fn is_set(&self) -> bool {
        lock(&self.slot).value.is_some()
    }

    /// Runs `f` on the value now, without keeping it: for quick synchronous reads (the
    /// user id). `None` when nothing is held.
    pub fn with<R>(&self, f: impl FnOnce(&Arc<T>) -> R) -> Option<R> {
        let value = lock(&self.slot).value.clone()?;
        Some(f(&value))
    }

    /// Starts `f(value)` on `rt`, tracked: [`Owner::close`] cancels it (the future is
    /// dropped at its next await) and waits for it. Returns `false`, and runs nothing,
    /// when no value is held.
    pub fn spawn<F, Fut>(&self, rt: &Handle, f: F) -> bool
    where
        F: FnOnce(Arc<T>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        // Spawned while the slot is locked: a `close` cannot slip in between taking the
        // value and tracking the task (it would then wait for an empty tracker and
        // return while this task still held the value).
        let slot = lock(&self.slot);
        let Some(value) = slot.value.clone() else {
            return false;
        };
        let cancel = slot.cancel.clone();
        let work = f(value);
        slot.tasks.spawn_on(
            async move {
                tokio::select! {
                    () = cancel.cancelled() => {}
                    () = work => {}
                }
            },
            rt,
        );
        true
    }

    /// Takes the value out: no new task can start, the running ones are cancelled, and
    /// this returns once they have all ended, so the caller holds the last reference
    /// (nothing else may keep one: every user goes through [`Owner::spawn`] or
    /// [`Owner::with`]). `None` when nothing was held.
    pub async fn close(&self) -> Option<Arc<T>> {
        let (value, tasks) = {
            let mut slot = lock(&self.slot);
            let value = slot.value.take()?;
            slot.cancel.cancel();
            slot.tasks.close();
            (value, slot.tasks.clone())
        };
        tasks.wait().await;
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn close_waits_for_every_task_and_leaves_the_only_reference() {
        let owner = Owner::<String>::default();
        assert!(
            !owner.spawn(&Handle::current(), |_| async {}),
            "nothing held"
        );
        owner.install(Arc::new("account".to_owned()));
        // A task that would hold the account for a minute (a long download, a
        // verification waiting for the other side).
        let (started_tx, started) = tokio::sync::oneshot::channel();
        assert!(owner.spawn(&Handle::current(), |acc| async move {
            let _ = started_tx.send(());
            tokio::time::sleep(Duration::from_secs(60)).await;
            drop(acc);
        }));
        started.await.unwrap();
        let closed = tokio::time::timeout(Duration::from_secs(5), owner.close())
            .await
            .expect("close does not wait for the minute")
            .expect("a value was held");
        assert_eq!(Arc::strong_count(&closed), 1, "no task holds it any more");
        assert!(!owner.is_set());
        assert!(!owner.spawn(&Handle::current(), |_| async {}), "closed");
        assert!(owner.close().await.is_none());
    }

    #[tokio::test]
    async fn finished_tasks_do_not_hold_the_value() {
        let owner = Owner::<u32>::default();
        owner.install(Arc::new(7));
        let (tx, rx) = tokio::sync::oneshot::channel();
        owner.spawn(&Handle::current(), |v| async move {
            let _ = tx.send(*v);
        });
        assert_eq!(rx.await.unwrap(), 7);
        assert_eq!(owner.with(|v| **v), Some(7));
        assert_eq!(Arc::strong_count(&owner.close().await.unwrap()), 1);
    }
}
