//! Provisioned announcements on their way to the media task: watches the provisioning snapshot
//! and, for each `announcements` object whose file is new or changed, reads and converts the
//! WAV file off the async threads (`spawn_blocking`: decoding and resampling take milliseconds to
//! seconds) and hands the G.711 frames to the media task, which keeps them in its library under
//! the announcement's id. A deleted object is dropped from the library; a file that cannot be
//! played is logged with its path and the reason, and tried again when its object changes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use tether_rtp::announce::Announcement;
use tether_store::Store;
use tokio::sync::{mpsc, watch};

/// A change for the media task's library.
#[derive(Debug)]
pub enum LibraryUpdate {
    /// Store (or replace) the announcement under its name (the object's id).
    Insert(Announcement),
    Remove(String),
}

/// Runs until `stop` turns true or the media task is gone.
pub async fn run(
    store: Arc<Store>,
    updates: mpsc::UnboundedSender<LibraryUpdate>,
    mut stop: watch::Receiver<bool>,
) {
    let mut changes = store.subscribe();
    // id -> the file last tried for it (loaded or not).
    let mut tried: HashMap<String, String> = HashMap::new();
    loop {
        let snapshot = store.snapshot();
        let wanted: Vec<(String, String)> = snapshot
            .data()
            .announcements
            .values()
            .map(|a| (a.id.clone(), a.file.clone()))
            .collect();
        for (id, file) in &wanted {
            if tried.get(id) == Some(file) {
                continue;
            }
            tried.insert(id.clone(), file.clone());
            let (name, path) = (id.clone(), PathBuf::from(file));
            let loaded =
                tokio::task::spawn_blocking(move || Announcement::from_wav(name, &path)).await;
            match loaded {
                Ok(Ok(audio)) => {
                    tracing::info!(
                        announcement = %id,
                        file = %file,
                        seconds = audio.duration().as_secs_f64(),
                        "announcement loaded"
                    );
                    if updates.send(LibraryUpdate::Insert(audio)).is_err() {
                        return;
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!(announcement = %id, error = %e, "announcement cannot be played")
                }
                Err(e) => {
                    tracing::error!(announcement = %id, error = %e, "announcement loader failed")
                }
            }
        }
        let gone: Vec<String> = tried
            .keys()
            .filter(|id| !wanted.iter().any(|(w, _)| w == *id))
            .cloned()
            .collect();
        for id in gone {
            tried.remove(&id);
            if updates.send(LibraryUpdate::Remove(id)).is_err() {
                return;
            }
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            () = async { let _ = stop.wait_for(|s| *s).await; } => return,
        }
    }
}
