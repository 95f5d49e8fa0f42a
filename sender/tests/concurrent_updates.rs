//! Concurrent changes to one webhook: a rotation or a PATCH changes only what it names, atomically, so
//! a disable that answered 200 is never undone and a deleted webhook is never brought back.
//!
//! Each test races real threads against one `Sender` on a database file (WAL: a write takes long enough
//! for a read-modify-write window to show up) over many rounds, and checks the invariant once every
//! thread has finished, so no timing is assumed.

use std::sync::{Arc, Barrier};

use anchor_webhooks_sender::service::{NewWebhook, WebhookPatch};
use anchor_webhooks_sender::{ApiError, Sender, SenderConfig};

const ROUNDS: usize = 60;
const RACERS: usize = 10;
const EVENT: &str = "task.completed";

fn sender(dir: &tempfile::TempDir) -> Arc<Sender> {
    let config = SenderConfig { db_path: Some(dir.path().join("sender.db")), ..SenderConfig::default() };
    Sender::start(config).expect("start the sender")
}

/// A fresh webhook in its own project (the 5-per-project limit never interferes).
fn new_webhook(sender: &Sender, round: usize) -> (String, String) {
    let project = format!("project-{round}");
    let new = NewWebhook {
        url: "https://example.com/hook".to_owned(),
        description: Some("initial".to_owned()),
        subscribed_events: vec![EVENT.to_owned()],
    };
    let (webhook, _secret) = sender.create_webhook(&project, new).expect("create");
    (project, webhook.id)
}

/// Runs `RACERS` calls of `racer` and one call of `single` on their own threads, released together.
fn race<R, A, B>(racer: A, single: B) -> (Vec<R>, R)
where
    R: Send,
    A: Fn(usize) -> R + Sync,
    B: FnOnce() -> R + Send,
{
    let start = Barrier::new(RACERS + 1);
    std::thread::scope(|scope| {
        let racers: Vec<_> = (0..RACERS)
            .map(|n| {
                let (start, racer) = (&start, &racer);
                scope.spawn(move || {
                    start.wait();
                    racer(n)
                })
            })
            .collect();
        let single = scope.spawn(|| {
            start.wait();
            single()
        });
        let results = racers.into_iter().map(|racer| racer.join().expect("racer panicked")).collect();
        (results, single.join().expect("single panicked"))
    })
}

fn disable() -> WebhookPatch {
    WebhookPatch { enabled: Some(false), ..WebhookPatch::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disable_survives_concurrent_rotations() {
    let dir = tempfile::tempdir().unwrap();
    let sender = sender(&dir);
    let mut lost = Vec::new();
    for round in 0..ROUNDS {
        let (project, id) = new_webhook(&sender, round);
        let (rotations, disabled) = race(
            |_| sender.rotate_secret(&project, &id).map(|(webhook, _)| webhook.enabled),
            || sender.update_webhook(&project, &id, disable()).map(|webhook| webhook.enabled),
        );
        assert_eq!(disabled, Ok(false), "round {round}: the PATCH answered");
        assert!(rotations.iter().all(Result::is_ok), "round {round}: {rotations:?}");
        let webhook = sender.webhook(&project, &id).expect("still there");
        if webhook.enabled {
            lost.push(round);
        }
        // Every rotation added a secret; none was lost either (one current secret, 10 still signing).
        let secrets = sender.store().signing_secrets(&id, sender.clock().now_ms()).unwrap();
        assert_eq!(secrets.len(), RACERS + 1, "round {round}");
    }
    assert!(lost.is_empty(), "a rotation re-enabled a disabled webhook in rounds {lost:?} of {ROUNDS}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_patches_each_keep_the_fields_of_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let sender = sender(&dir);
    let mut lost = Vec::new();
    for round in 0..ROUNDS {
        let (project, id) = new_webhook(&sender, round);
        let rename =
            |n: usize| WebhookPatch { description: Some(format!("renamed {n}")), ..WebhookPatch::default() };
        let (renames, disabled) = race(
            |n| sender.update_webhook(&project, &id, rename(n)).map(|webhook| webhook.description),
            || sender.update_webhook(&project, &id, disable()).map(|webhook| webhook.description),
        );
        assert!(renames.iter().all(Result::is_ok), "round {round}: {renames:?}");
        assert!(disabled.is_ok(), "round {round}: {disabled:?}");
        let webhook = sender.webhook(&project, &id).expect("still there");
        assert!(webhook.description.starts_with("renamed "), "round {round}: {}", webhook.description);
        if webhook.enabled {
            lost.push(round);
        }
    }
    assert!(
        lost.is_empty(),
        "a PATCH of the description re-enabled the webhook in rounds {lost:?} of {ROUNDS}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_or_rotation_never_brings_a_deleted_webhook_back() {
    let dir = tempfile::tempdir().unwrap();
    let sender = sender(&dir);
    let not_found = Err(ApiError::new(404, "webhook not found"));
    let mut resurrected = Vec::new();
    for round in 0..ROUNDS {
        let (project, id) = new_webhook(&sender, round);
        let (changes, deleted) = race(
            |n| {
                if n % 2 == 0 {
                    let patch =
                        WebhookPatch { description: Some(format!("renamed {n}")), ..WebhookPatch::default() };
                    sender.update_webhook(&project, &id, patch).map(drop)
                } else {
                    sender.rotate_secret(&project, &id).map(drop)
                }
            },
            || sender.delete_webhook(&project, &id),
        );
        assert_eq!(deleted, Ok(()), "round {round}");
        for change in &changes {
            assert!(change.is_ok() || *change == not_found, "round {round}: {change:?}");
        }
        let row = sender.store().get_webhook(&project, &id).unwrap().expect("soft-deleted rows stay");
        if row.deleted_at_ms.is_none() {
            resurrected.push(round);
            continue;
        }
        assert_eq!(sender.webhook(&project, &id).map(drop), not_found, "round {round}");
        assert_eq!(sender.update_webhook(&project, &id, disable()).map(drop), not_found, "round {round}");
        assert_eq!(sender.rotate_secret(&project, &id).map(drop), not_found, "round {round}");
        assert!(sender.list_webhooks(&project).unwrap().is_empty(), "round {round}");
    }
    assert!(resurrected.is_empty(), "a deleted webhook came back in rounds {resurrected:?} of {ROUNDS}");
}
