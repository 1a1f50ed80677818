//! The announcements a node can play, by name (the provisioned announcement id or name), each
//! loaded once and handed out as an `Arc` that every playback shares.
//!
//! A name is replaced only when it is loaded from a different file (or explicitly reloaded);
//! playbacks already running keep the audio they started with.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{music_on_hold, zip_tone, AnnounceError, Announcement, MUSIC_ON_HOLD, ZIP_TONE};

/// Where an entry came from, to know whether a load request is a repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Builtin,
    File(PathBuf),
    Pcm,
}

#[derive(Debug, Clone)]
struct Entry {
    audio: Arc<Announcement>,
    source: Source,
}

/// Announcements by name. [`AnnouncementLibrary::new`] holds the built-in zip tone
/// ([`ZIP_TONE`]) and music on hold ([`MUSIC_ON_HOLD`]).
#[derive(Debug, Clone)]
pub struct AnnouncementLibrary {
    entries: HashMap<String, Entry>,
}

impl Default for AnnouncementLibrary {
    fn default() -> Self {
        Self::new()
    }
}

impl AnnouncementLibrary {
    /// A library with the built-ins.
    pub fn new() -> Self {
        let mut library = Self::empty();
        for audio in [zip_tone(), music_on_hold()] {
            library.entries.insert(
                audio.name().to_owned(),
                Entry {
                    audio: Arc::new(audio),
                    source: Source::Builtin,
                },
            );
        }
        library
    }

    /// A library with nothing in it.
    pub fn empty() -> Self {
        AnnouncementLibrary {
            entries: HashMap::new(),
        }
    }

    /// The announcement named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Announcement>> {
        self.entries.get(name).map(|e| Arc::clone(&e.audio))
    }

    /// The zip tone (built-in unless replaced).
    pub fn zip_tone(&self) -> Option<Arc<Announcement>> {
        self.get(ZIP_TONE)
    }

    /// Music on hold (built-in unless replaced by [`Self::set_music_on_hold_wav`]).
    pub fn music_on_hold(&self) -> Option<Arc<Announcement>> {
        self.get(MUSIC_ON_HOLD)
    }

    /// Loads `path` under `name`. When `name` is already loaded from that same path the file is not
    /// read again; when it was loaded from elsewhere, the new file replaces it (only if it loads).
    pub fn load_wav(
        &mut self,
        name: &str,
        path: &Path,
    ) -> Result<Arc<Announcement>, AnnounceError> {
        if let Some(entry) = self.entries.get(name) {
            if entry.source == Source::File(path.to_path_buf()) {
                return Ok(Arc::clone(&entry.audio));
            }
        }
        self.reload_wav(name, path)
    }

    /// Reads `path` again and stores it under `name` (the file changed on disk). On error the
    /// previous entry, if any, stays.
    pub fn reload_wav(
        &mut self,
        name: &str,
        path: &Path,
    ) -> Result<Arc<Announcement>, AnnounceError> {
        let audio = Arc::new(Announcement::from_wav(name, path)?);
        self.entries.insert(
            name.to_owned(),
            Entry {
                audio: Arc::clone(&audio),
                source: Source::File(path.to_path_buf()),
            },
        );
        Ok(audio)
    }

    /// Replaces music on hold with a WAV file.
    pub fn set_music_on_hold_wav(
        &mut self,
        path: &Path,
    ) -> Result<Arc<Announcement>, AnnounceError> {
        self.load_wav(MUSIC_ON_HOLD, path)
    }

    /// Stores generated audio under its own name, replacing any entry of that name.
    pub fn insert(&mut self, audio: Announcement) -> Arc<Announcement> {
        let audio = Arc::new(audio);
        self.entries.insert(
            audio.name().to_owned(),
            Entry {
                audio: Arc::clone(&audio),
                source: Source::Pcm,
            },
        );
        audio
    }

    /// Forgets `name`; running playbacks keep their copy. Returns whether it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        self.entries.remove(name).is_some()
    }

    /// Names of every entry, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
