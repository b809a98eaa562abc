//! The durable default: one JSON file per credential, replaced atomically.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::{StoreError, TokenSet, TokenStore};
use crate::refresh::{Step, StepHook};
use crate::secret::Secret;

/// Token sets in a directory, one file per key.
///
/// The file for key `k` is `token-<hex of k>.json`. [`save`](TokenStore::save) writes the new
/// set to a temporary file in the same directory, `fsync`s it, renames it over the old file
/// and `fsync`s the directory: on POSIX file systems a crash at any point leaves either the
/// complete old file or the complete new one. Leftover temporary files (from a crash
/// mid-write) are ignored and may be deleted.
///
/// Files are created with mode `0600` on Unix. Several processes may share the directory;
/// the last writer wins.
pub struct FileStore {
    dir: PathBuf,
    hook: Option<StepHook>,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

#[derive(Serialize, Deserialize)]
struct Record {
    v: u32,
    access_token: String,
    refresh_token: Option<String>,
    expires_at: i64,
    token_type: String,
    scope: Option<String>,
}

impl FileStore {
    /// A store in `dir`, created if missing.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the directory cannot be created.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(StoreError::io("create_dir"))?;
        Ok(Self { dir, hook: None })
    }

    /// Fault injection for crash tests: `hook` is called with [`Step::MidWrite`] after half of
    /// the temporary file is written. Not for production use.
    #[doc(hidden)]
    #[must_use]
    pub fn with_hook(mut self, hook: StepHook) -> Self {
        self.hook = Some(hook);
        self
    }

    /// The directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds `key`'s set.
    #[must_use]
    pub fn path_for(&self, key: &str) -> PathBuf {
        let mut name = String::with_capacity(key.len().saturating_mul(2).saturating_add(11));
        name.push_str("token-");
        for b in key.bytes() {
            name.push(char::from(HEX[usize::from(b >> 4)]));
            name.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        name.push_str(".json");
        self.dir.join(name)
    }

    fn write_temp(&self, temp: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(temp).map_err(StoreError::io("create"))?;
        let (first, second) = bytes.split_at(bytes.len() / 2);
        file.write_all(first).map_err(StoreError::io("write"))?;
        if let Some(hook) = &self.hook {
            file.flush().map_err(StoreError::io("write"))?;
            hook(Step::MidWrite);
        }
        file.write_all(second).map_err(StoreError::io("write"))?;
        file.sync_all().map_err(StoreError::io("fsync"))?;
        Ok(())
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl TokenStore for FileStore {
    fn load(&self, key: &str) -> Result<Option<TokenSet>, StoreError> {
        let bytes = match fs::read(self.path_for(key)) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io("read")(e)),
        };
        let record: Record = serde_json::from_slice(&bytes).map_err(|_| StoreError::Corrupt)?;
        if record.v != 1 || record.access_token.is_empty() {
            return Err(StoreError::Corrupt);
        }
        Ok(Some(TokenSet {
            access_token: Secret::from(record.access_token),
            refresh_token: record.refresh_token.map(Secret::from),
            expires_at: record.expires_at,
            token_type: record.token_type,
            scope: record.scope,
        }))
    }

    fn save(&self, key: &str, set: &TokenSet) -> Result<(), StoreError> {
        let record = Record {
            v: 1,
            access_token: set.access_token.expose().to_owned(),
            refresh_token: set.refresh_token.as_ref().map(|s| s.expose().to_owned()),
            expires_at: set.expires_at,
            token_type: set.token_type.clone(),
            scope: set.scope.clone(),
        };
        let bytes = Secret::from(serde_json::to_string(&record).map_err(|_| StoreError::Corrupt)?);
        drop(record);
        let target = self.path_for(key);
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(target.file_name().unwrap_or_default());
        temp_name.push(format!(".tmp-{}-{n}", std::process::id()));
        let temp = self.dir.join(temp_name);
        let result = self
            .write_temp(&temp, bytes.expose().as_bytes())
            .and_then(|()| fs::rename(&temp, &target).map_err(StoreError::io("rename")));
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result?;
        sync_dir(&self.dir)
    }

    fn remove(&self, key: &str) -> Result<(), StoreError> {
        match fs::remove_file(self.path_for(key)) {
            Ok(()) => sync_dir(&self.dir),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io("remove")(e)),
        }
    }
}

/// Makes a rename in `dir` durable (POSIX: `fsync` on the directory). A no-op elsewhere.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(StoreError::io("fsync_dir"))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "authcore-store-{name}-{}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn round_trip_and_replace() {
        let dir = temp_dir("rt");
        let store = FileStore::new(&dir).unwrap();
        assert_eq!(store.load("a").unwrap(), None);
        let mut set = TokenSet::new("at1", Some(Secret::new("rt1")), 100);
        set.scope = Some("openid".into());
        store.save("a", &set).unwrap();
        assert_eq!(store.load("a").unwrap(), Some(set.clone()));
        let set2 = TokenSet::new("at2", None, 200);
        store.save("a", &set2).unwrap();
        assert_eq!(store.load("a").unwrap(), Some(set2));
        assert_eq!(store.load("b").unwrap(), None);
        // No temporary files are left behind.
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        store.remove("a").unwrap();
        store.remove("a").unwrap();
        assert_eq!(store.load("a").unwrap(), None);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn corrupt_file_is_reported() {
        let dir = temp_dir("corrupt");
        let store = FileStore::new(&dir).unwrap();
        fs::write(store.path_for("k"), b"{\"v\":1,").unwrap();
        assert_eq!(store.load("k"), Err(StoreError::Corrupt));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn keys_map_to_safe_names() {
        let store = FileStore::new(temp_dir("names")).unwrap();
        let p = store.path_for("../x/y");
        assert_eq!(p.file_name().unwrap(), "token-2e2e2f782f79.json");
        let _ = fs::remove_dir_all(store.dir());
    }
}
