//! The durable default: one JSON file per credential, replaced atomically.

use std::ffi::OsStr;
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
/// The file for key `k` is `token-<hex of k>.json` when `k` has at most 117 bytes, and
/// `token-sha256-<hex of SHA-256(k)>.json` for longer keys, so that no name exceeds 245
/// bytes (the usual limit is 255); the two forms cannot collide, a hex name has no `s`.
/// [`save`](TokenStore::save) writes the new set to a temporary file in the same directory,
/// `fsync`s it, opens the directory, renames the file over the old one and `fsync`s the
/// directory: on POSIX file systems a crash at any point leaves either the complete old file
/// or the complete new one. Every step that can fail comes before the rename, so an error
/// leaves the old set in place, except a failure of that last `fsync`, reported as
/// [`StoreError::NotDurable`]: the new set is in place then, but may not survive a crash.
/// Temporary files are named `.token.tmp-<32 random hex digits>`; leftovers (from a crash
/// mid-write) are ignored and may be deleted.
///
/// `save` refuses a set that `load` could not give back, before anything is written: one
/// with an empty access token ([`StoreError::EmptyAccessToken`]) or whose `token_type` is not
/// `Bearer` ([`StoreError::NotBearer`]).
///
/// Files are created with mode `0600` on Unix. Several processes may share the directory,
/// also from different hosts or containers (where process ids repeat): temporary names are
/// random, created exclusively (a name already taken is never reused, another one is drawn),
/// and a writer only ever deletes its own temporary file. The last writer wins.
pub struct FileStore {
    dir: PathBuf,
    hook: Option<StepHook>,
}

/// Keys up to this long keep the original `token-<hex>.json` name. 117 is the longest key
/// an older version could save (its temporary name, `.<name>.tmp-<pid>-<n>`, fits in 255
/// bytes only up to there, with pid 1), so every file it wrote is still found.
const HEX_KEY_MAX: usize = 117;

/// Prefix of every temporary file name (leftovers, old and new, contain `.tmp-`).
const TEMP_PREFIX: &str = ".token.tmp-";

/// How many temporary names [`FileStore::save`] tries before giving up: each is 128 random
/// bits, so a second try only happens if another writer holds exactly that name.
const TEMP_ATTEMPTS: u32 = 8;

/// Mixed into temporary names only if the OS random source fails.
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
    /// A store in `dir`, created if missing. An empty path is the current directory (`.`).
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the directory cannot be created.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let mut dir = dir.into();
        // `""` joins to bare file names, but cannot be opened to sync the directory: every
        // save would replace the set and then report a failure.
        if dir.as_os_str().is_empty() {
            dir = PathBuf::from(".");
        }
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

    /// The file that holds `key`'s set: `token-<hex of key>.json` for keys of at most 117
    /// bytes, `token-sha256-<hex of SHA-256(key)>.json` for longer ones.
    #[must_use]
    pub fn path_for(&self, key: &str) -> PathBuf {
        self.dir.join(file_name(key))
    }

    /// Creates a new temporary file in the directory ([`create_private_temp`]).
    fn create_temp(&self) -> Result<(PathBuf, File), StoreError> {
        create_private_temp(&self.dir, OsStr::new(TEMP_PREFIX)).map_err(StoreError::io("create"))
    }

    fn write_temp(&self, mut file: File, bytes: &[u8]) -> Result<(), StoreError> {
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

/// The file name for `key` (see [`FileStore::path_for`]).
fn file_name(key: &str) -> String {
    let mut name = String::with_capacity(HEX_KEY_MAX.saturating_mul(2).saturating_add(11));
    name.push_str("token-");
    if key.len() <= HEX_KEY_MAX {
        push_hex(&mut name, key.as_bytes());
    } else {
        use sha2::Digest as _;
        name.push_str("sha256-");
        push_hex(&mut name, &sha2::Sha256::digest(key.as_bytes()));
    }
    name.push_str(".json");
    name
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
}

/// Creates a new file in `dir`, exclusively, mode `0600` on Unix, named `prefix` and 128
/// random bits in hex. A name that already exists belongs to another writer: it is left alone
/// and another name is drawn (up to [`TEMP_ATTEMPTS`] names). For the store's temporary files
/// and `authcore refresh --out`'s.
pub(crate) fn create_private_temp(dir: &Path, prefix: &OsStr) -> io::Result<(PathBuf, File)> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
    for _ in 0..TEMP_ATTEMPTS {
        let mut name = prefix.to_os_string();
        name.push(temp_suffix());
        let temp = dir.join(name);
        match options.open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// A fresh temporary file name: [`TEMP_PREFIX`] and 128 random bits in hex.
#[cfg(test)]
fn temp_name() -> String {
    let mut name = TEMP_PREFIX.to_owned();
    name.push_str(&temp_suffix());
    name
}

/// 128 random bits in hex (tests may force whole names: the prefix is then dropped).
fn temp_suffix() -> String {
    #[cfg(test)]
    if let Some(forced) = tests::FORCED_TEMP_NAMES.with(|f| f.borrow_mut().pop_front()) {
        return forced
            .strip_prefix(TEMP_PREFIX)
            .unwrap_or(&forced)
            .to_owned();
    }
    let mut random = [0u8; 16];
    if getrandom::fill(&mut random).is_err() {
        // No OS randomness: still unique within this process, and `create_new` plus retries
        // keep a collision with another writer harmless.
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let high = (u64::from(std::process::id()) << 32) ^ n;
        random[..8].copy_from_slice(&high.to_le_bytes());
        random[8..].copy_from_slice(&nanos.to_le_bytes()[..8]);
    }
    let mut hex = String::with_capacity(32);
    push_hex(&mut hex, &random);
    hex
}

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
        let set = TokenSet {
            access_token: Secret::from(record.access_token),
            refresh_token: record.refresh_token.map(Secret::from),
            expires_at: record.expires_at,
            token_type: record.token_type,
            scope: record.scope,
        };
        // Only `Bearer` sets are ever saved; another type is not ours to hand out.
        if !set.is_bearer() {
            return Err(StoreError::Corrupt);
        }
        Ok(Some(set))
    }

    /// # Errors
    ///
    /// [`StoreError::EmptyAccessToken`], [`StoreError::NotBearer`]: `load` would read the set
    /// as corrupt; nothing was written. [`StoreError::Io`] with the step that failed (`create`, `write`, `fsync`,
    /// `open_dir`, `rename`): nothing was replaced. [`StoreError::NotDurable`]: the `fsync`
    /// of the directory after the rename failed; the new set is in place.
    fn save(&self, key: &str, set: &TokenSet) -> Result<(), StoreError> {
        // What `load` refuses is not written (it would replace a readable set).
        if set.access_token.expose().is_empty() {
            return Err(StoreError::EmptyAccessToken);
        }
        if !set.is_bearer() {
            return Err(StoreError::NotBearer);
        }
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
        let (temp, file) = self.create_temp()?;
        // From here on the temporary file is ours: on failure, delete it (and only it). All
        // that can fail happens before the rename, so the old set is kept on any error here.
        let renamed = self
            .write_temp(file, bytes.expose().as_bytes())
            .and_then(|()| open_dir(&self.dir).map_err(StoreError::io("open_dir")))
            .and_then(|dir| {
                fs::rename(&temp, &target).map_err(StoreError::io("rename"))?;
                Ok(dir)
            });
        let dir = match renamed {
            Ok(dir) => dir,
            Err(e) => {
                let _ = fs::remove_file(&temp);
                return Err(e);
            }
        };
        // The new set is in place; only making the rename durable is left, and its failure
        // cannot bring the old set back.
        sync_opened_dir(dir).map_err(|e| StoreError::NotDurable { kind: e.kind() })
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
pub(crate) fn sync_dir_io(dir: &Path) -> io::Result<()> {
    sync_opened_dir(open_dir(dir)?)
}

/// `dir` opened for [`sync_opened_dir`] (`None` where directories are not synced): opened
/// before a rename, so that a directory that cannot be opened fails before anything changed.
fn open_dir(dir: &Path) -> io::Result<Option<File>> {
    #[cfg(test)]
    if let Some(kind) = tests::FAIL_DIR_OPEN.with(std::cell::Cell::take) {
        return Err(io::Error::from(kind));
    }
    if cfg!(unix) {
        File::open(dir).map(Some)
    } else {
        Ok(None)
    }
}

/// `fsync`s a directory [`open_dir`] opened.
fn sync_opened_dir(dir: Option<File>) -> io::Result<()> {
    #[cfg(test)]
    if let Some(kind) = tests::FAIL_DIR_SYNC.with(std::cell::Cell::take) {
        return Err(io::Error::from(kind));
    }
    match dir {
        Some(dir) => dir.sync_all(),
        None => Ok(()),
    }
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    sync_dir_io(dir).map_err(StoreError::io("fsync_dir"))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use super::*;

    thread_local! {
        /// Names [`temp_name`] returns (first in, first out) before drawing random ones.
        pub(super) static FORCED_TEMP_NAMES: RefCell<VecDeque<String>> =
            const { RefCell::new(VecDeque::new()) };
        /// Makes the next opening of a directory on this thread fail with this kind.
        pub(super) static FAIL_DIR_OPEN: std::cell::Cell<Option<io::ErrorKind>> =
            const { std::cell::Cell::new(None) };
        /// Makes the next directory `fsync` on this thread fail with this kind.
        pub(super) static FAIL_DIR_SYNC: std::cell::Cell<Option<io::ErrorKind>> =
            const { std::cell::Cell::new(None) };
    }

    fn force_temp_names(names: &[&str]) {
        FORCED_TEMP_NAMES.with(|f| f.borrow_mut().extend(names.iter().map(|&n| n.to_owned())));
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

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
    fn an_empty_path_is_the_current_directory() {
        let store = FileStore::new("").unwrap();
        assert_eq!(store.dir(), Path::new("."));
        // A save succeeds (it used to replace the set, then fail to sync the directory "").
        let key = format!("empty-path-test-{}", std::process::id());
        let set = TokenSet::new("at", None, 100);
        let saved = store.save(&key, &set);
        let loaded = store.load(&key);
        store.remove(&key).unwrap();
        assert_eq!(saved, Ok(()));
        assert_eq!(loaded, Ok(Some(set)));
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

    #[test]
    fn temp_names_are_short_and_random() {
        let a = temp_name();
        let b = temp_name();
        assert_ne!(a, b);
        for name in [&a, &b] {
            assert!(name.starts_with(".token.tmp-"), "{name}");
            assert_eq!(name.len(), TEMP_PREFIX.len() + 32, "{name}");
            assert!(name[TEMP_PREFIX.len()..]
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        }
    }

    #[test]
    fn taken_temp_name_is_left_alone_and_another_is_drawn() {
        let dir = temp_dir("taken");
        let store = FileStore::new(&dir).unwrap();
        // Another writer (say pid 1 in another container) holds the name this save draws
        // first, mid-write.
        let theirs = ".token.tmp-0123456789abcdef0123456789abcdef";
        fs::write(dir.join(theirs), b"another writer's half-written set").unwrap();
        force_temp_names(&[theirs]);
        let set = TokenSet::new("at", Some(Secret::new("rt")), 100);
        store.save("k", &set).unwrap();
        assert_eq!(store.load("k").unwrap(), Some(set));
        assert_eq!(
            fs::read(dir.join(theirs)).unwrap(),
            b"another writer's half-written set"
        );
        assert_eq!(
            names_in(&dir),
            [theirs.to_owned(), file_name("k")],
            "only the other writer's file and the target"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn no_free_temp_name_fails_without_touching_other_files() {
        let dir = temp_dir("allTaken");
        let store = FileStore::new(&dir).unwrap();
        let old = TokenSet::new("old", None, 1);
        store.save("k", &old).unwrap();
        let taken: Vec<String> = (0..TEMP_ATTEMPTS)
            .map(|i| format!("{TEMP_PREFIX}{i:032x}"))
            .collect();
        for name in &taken {
            fs::write(dir.join(name), name.as_bytes()).unwrap();
        }
        force_temp_names(&taken.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(
            store.save("k", &TokenSet::new("new", None, 2)),
            Err(StoreError::Io {
                kind: io::ErrorKind::AlreadyExists,
                operation: "create",
            })
        );
        assert_eq!(store.load("k").unwrap(), Some(old));
        for name in &taken {
            assert_eq!(fs::read(dir.join(name)).unwrap(), name.as_bytes());
        }
        let _ = fs::remove_dir_all(&dir);
    }

    /// Opening the directory (for the `fsync` after the rename) comes before the rename: when
    /// it fails, the save fails with the old set in place and no temporary file left.
    #[test]
    fn a_directory_that_cannot_be_opened_keeps_the_old_set() {
        let dir = temp_dir("unopenable");
        let store = FileStore::new(&dir).unwrap();
        let old = TokenSet::new("old", Some(Secret::new("rt-old")), 1);
        store.save("k", &old).unwrap();
        FAIL_DIR_OPEN.with(|f| f.set(Some(io::ErrorKind::PermissionDenied)));
        let saved = store.save("k", &TokenSet::new("new", Some(Secret::new("rt-new")), 2));
        assert_eq!(
            saved,
            Err(StoreError::Io {
                kind: io::ErrorKind::PermissionDenied,
                operation: "open_dir"
            })
        );
        assert_eq!(store.load("k").unwrap(), Some(old));
        assert_eq!(names_in(&dir), [file_name("k")], "no temporary file left");
        let _ = fs::remove_dir_all(&dir);
    }

    /// A failed `fsync` of the directory comes after the rename: the new set is in place, and
    /// the error says so ([`StoreError::NotDurable`]) instead of claiming the old set is kept.
    #[test]
    fn a_failed_directory_sync_after_the_rename_is_not_durable() {
        let dir = temp_dir("notDurable");
        let store = FileStore::new(&dir).unwrap();
        let old = TokenSet::new("old", Some(Secret::new("rt-old")), 1);
        let new = TokenSet::new("new", Some(Secret::new("rt-new")), 2);
        store.save("k", &old).unwrap();
        FAIL_DIR_SYNC.with(|f| f.set(Some(io::ErrorKind::Other)));
        let saved = store.save("k", &new);
        assert_eq!(
            saved,
            Err(StoreError::NotDurable {
                kind: io::ErrorKind::Other
            })
        );
        assert_eq!(saved.unwrap_err().kind(), "store_not_durable");
        assert_eq!(store.load("k").unwrap(), Some(new));
        assert_eq!(names_in(&dir), [file_name("k")], "no temporary file left");
        let _ = fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn files_are_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = temp_dir("mode");
        let store = FileStore::new(&dir).unwrap();
        let long = "k".repeat(300);
        for key in ["short", long.as_str()] {
            store.save(key, &TokenSet::new("at", None, 1)).unwrap();
            let mode = fs::metadata(store.path_for(key))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{key}");
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
