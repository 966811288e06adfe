//! Switches a running engine exposes to whoever drives it (the desktop tray, the UI's API):
//! pausing ingest. A watch channel holds the state, so the receivers read it without locking
//! each other out and the live stream can tell the UI when it flips.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// What a client is told to wait while ingest is paused. A pause is a person's choice and may
/// last minutes; a few seconds keeps a paused engine from being hammered while an SDK's
/// retries (usually five, with backoff) still reach it soon after a resume.
pub const PAUSED_RETRY_AFTER: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Control {
    paused: watch::Sender<bool>,
    /// Requests refused because ingest was paused, since the engine started: what a pause is
    /// costing the clients (their SDKs retry, then drop).
    refused: AtomicU64,
}

impl Default for Control {
    fn default() -> Self {
        Self {
            paused: watch::Sender::new(false),
            refused: AtomicU64::new(0),
        }
    }
}

impl Control {
    /// Whether the receivers refuse data (503 with `Retry-After`, gRPC UNAVAILABLE).
    pub fn paused(&self) -> bool {
        *self.paused.borrow()
    }

    /// Counts one request turned away by the pause.
    pub(crate) fn refuse(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Requests refused while paused, since the engine started.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Pauses or resumes ingest; returns whether that changed anything.
    pub fn set_paused(&self, paused: bool) -> bool {
        self.paused.send_if_modified(|now| {
            let changed = *now != paused;
            *now = paused;
            changed
        })
    }

    /// Follows the pause state (the live stream forwards its changes to the UI).
    pub fn watch_paused(&self) -> watch::Receiver<bool> {
        self.paused.subscribe()
    }
}
