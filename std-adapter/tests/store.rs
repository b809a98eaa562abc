//! `FileStore` file names: long keys, names already on disk, writers sharing a directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt as _;
#[cfg(unix)]
use std::path::Path;
use std::sync::Arc;

use authcore_std::secret::Secret;
use authcore_std::store::{FileStore, StoreError, TokenSet, TokenStore};
use common::temp_dir;

fn set(at: &str) -> TokenSet {
    let mut set = TokenSet::new(at, Some(Secret::new(format!("rt-{at}"))), 1_700_000_000);
    set.scope = Some("openid offline_access".into());
    set
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn file_name(store: &FileStore, key: &str) -> String {
    store
        .path_for(key)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

/// A key of exactly `len` bytes that looks like a real one (issuer, client, subject).
fn key_of(len: usize) -> String {
    let mut key = String::from("https://issuer.example/|client-id|user@example.com|");
    while key.len() < len {
        key.push(char::from(b'a' + u8::try_from(key.len() % 26).unwrap()));
    }
    key.truncate(len);
    key
}

fn leftovers(store: &FileStore) -> Vec<String> {
    fs::read_dir(store.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

#[test]
fn keys_of_any_length_save_load_and_remove() {
    let dir = temp_dir("store-long");
    let store = FileStore::new(dir.path()).unwrap();
    for len in [
        0, 1, 100, 116, 117, 118, 122, 123, 127, 128, 200, 255, 256, 1000, 4096,
    ] {
        let key = key_of(len);
        assert_eq!(key.len(), len);
        let name = file_name(&store, &key);
        assert!(name.len() <= 245, "{len}: {} bytes", name.len());
        assert_eq!(store.load(&key).unwrap(), None, "{len}");
        let s = set(&format!("at-{len}"));
        store
            .save(&key, &s)
            .unwrap_or_else(|e| panic!("save, key of {len} bytes: {e}"));
        assert_eq!(store.load(&key).unwrap(), Some(s.clone()), "{len}");
        // Replacing works too (the rename over an existing file).
        let s2 = set(&format!("at2-{len}"));
        store.save(&key, &s2).unwrap();
        assert_eq!(store.load(&key).unwrap(), Some(s2), "{len}");
    }
    assert_eq!(leftovers(&store), Vec::<String>::new());
    for len in [0, 117, 118, 4096] {
        let key = key_of(len);
        store.remove(&key).unwrap();
        assert_eq!(store.load(&key).unwrap(), None, "{len}");
    }
}

#[test]
fn long_keys_use_a_sha256_name() {
    let dir = temp_dir("store-sha");
    let store = FileStore::new(dir.path()).unwrap();
    // FIPS 180-2 test vector: SHA-256 of one million `a`.
    assert_eq!(
        file_name(&store, &"a".repeat(1_000_000)),
        "token-sha256-cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0.json"
    );
    let long = key_of(118);
    let name = file_name(&store, &long);
    assert!(name.starts_with("token-sha256-"), "{name}");
    assert_eq!(name.len(), "token-sha256-".len() + 64 + ".json".len());
    // Keys up to 117 bytes keep the hex name.
    let short = key_of(117);
    assert_eq!(
        file_name(&store, &short),
        format!("token-{}.json", hex(short.as_bytes()))
    );
}

#[test]
fn long_keys_with_a_common_prefix_do_not_collide() {
    let dir = temp_dir("store-prefix");
    let store = FileStore::new(dir.path()).unwrap();
    let base = key_of(300);
    let keys: Vec<String> = ["a", "b", "ab", ""]
        .iter()
        .map(|tail| format!("{base}{tail}"))
        .chain([key_of(118), key_of(119)])
        .collect();
    for (i, key) in keys.iter().enumerate() {
        store.save(key, &set(&format!("at-{i}"))).unwrap();
    }
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(store.load(key).unwrap(), Some(set(&format!("at-{i}"))));
    }
    let files = fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, keys.len());
}

#[test]
fn files_written_by_earlier_versions_still_load() {
    let dir = temp_dir("store-compat");
    // What an earlier version wrote: `token-<hex of key>.json`, a version-1 record.
    let record = r#"{"v":1,"access_token":"at-old","refresh_token":"rt-old","expires_at":1700000000,"token_type":"Bearer","scope":"openid"}"#;
    let keys = ["user@example.com", "../x/y", "", &key_of(117)].map(str::to_owned);
    for key in &keys {
        let name = format!("token-{}.json", hex(key.as_bytes()));
        fs::write(dir.path().join(name), record).unwrap();
    }
    let store = FileStore::new(dir.path()).unwrap();
    let mut expected = TokenSet::new("at-old", Some(Secret::new("rt-old")), 1_700_000_000);
    expected.scope = Some("openid".into());
    for key in &keys {
        assert_eq!(store.load(key).unwrap(), Some(expected.clone()), "{key:?}");
        // And a save replaces that same file, no second one appears.
        store.save(key, &set("at-new")).unwrap();
        assert_eq!(store.load(key).unwrap(), Some(set("at-new")));
    }
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), keys.len());
}

#[test]
fn writers_sharing_a_directory_all_succeed() {
    let dir = temp_dir("store-shared");
    // Two stores on the same directory, as two processes would have.
    let stores = [
        Arc::new(FileStore::new(dir.path()).unwrap()),
        Arc::new(FileStore::new(dir.path()).unwrap()),
    ];
    let long = key_of(500);
    std::thread::scope(|s| {
        for t in 0..4 {
            let store = Arc::clone(&stores[t % 2]);
            let long = long.as_str();
            s.spawn(move || {
                for i in 0..25 {
                    for key in ["shared", long] {
                        store.save(key, &set(&format!("at-{t}-{i}"))).unwrap();
                    }
                }
            });
        }
    });
    for key in ["shared", long.as_str()] {
        let loaded = stores[0].load(key).unwrap().unwrap();
        assert!(loaded.access_token.expose().ends_with("-24"), "{key}");
    }
    assert_eq!(leftovers(&stores[1]), Vec::<String>::new());
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
}

/// Set when [`a_save_that_cannot_open_its_directory_keeps_the_previous_set`] re-runs itself as
/// an unprivileged user: the store directory to use.
#[cfg(unix)]
const UNPRIVILEGED_DIR: &str = "AUTHCORE_STD_TEST_UNPRIVILEGED_STORE_DIR";

/// A save into a directory that may be written and searched but not read (`0300`), so that
/// it cannot be opened for the directory `fsync`, fails, and the old set is still there.
#[cfg(unix)]
fn check_an_unopenable_directory_keeps_the_old_set(dir: &Path) {
    let store = FileStore::new(dir).unwrap();
    store.save("k", &set("old")).unwrap();
    fs::set_permissions(dir, fs::Permissions::from_mode(0o300)).unwrap();
    let saved = store.save("k", &set("new"));
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(
        store.load("k"),
        Ok(Some(set("old"))),
        "the save failed ({saved:?}), yet the store holds the new set"
    );
    assert_eq!(
        saved,
        Err(StoreError::Io {
            kind: std::io::ErrorKind::PermissionDenied,
            operation: "open_dir"
        })
    );
    assert_eq!(leftovers(&store), Vec::<String>::new());
}

/// `TokenStore::save`: when it fails (other than `NotDurable`), "the previous set is kept".
/// The file store used to rename first and open the directory for its `fsync` afterwards:
/// an error there left the new set in place while reporting a failure. Root ignores modes,
/// so as root the test re-runs itself as `nobody` (uid 65534) with `setpriv` (util-linux).
#[cfg(unix)]
#[test]
fn a_save_that_cannot_open_its_directory_keeps_the_previous_set() {
    const NAME: &str = "a_save_that_cannot_open_its_directory_keeps_the_previous_set";
    if let Some(dir) = std::env::var_os(UNPRIVILEGED_DIR) {
        check_an_unopenable_directory_keeps_the_old_set(Path::new(&dir));
        return;
    }
    let base = temp_dir("store-unopenable");
    // Do modes apply to this process? A `0300` directory cannot be listed then.
    fs::set_permissions(base.path(), fs::Permissions::from_mode(0o300)).unwrap();
    let modes_apply = fs::read_dir(base.path()).is_err();
    fs::set_permissions(base.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let dir = base.path().join("store");
    if modes_apply {
        check_an_unopenable_directory_keeps_the_old_set(&dir);
        return;
    }
    // Privileged (root): run this test again as nobody, from a copy of this binary that
    // nobody may run (the build directory may be private), in a directory nobody owns.
    let exe = base.path().join("store-test");
    fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
    fs::create_dir(&dir).unwrap();
    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
    let run = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .env(UNPRIVILEGED_DIR, &dir)
        .current_dir("/")
        .output();
    match run {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "the run as nobody failed:\n{text}");
            assert!(
                text.contains("test result: ok. 1 passed"),
                "the run as nobody did not run the test:\n{text}"
            );
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "{NAME}: running privileged, this test needs setpriv (util-linux) to re-run itself \
             as nobody; install util-linux or run the tests as an unprivileged user (the \
             library's own unit test `a_directory_that_cannot_be_opened_keeps_the_old_set` \
             covers the same case by injection)"
        ),
        Err(e) => panic!("cannot run setpriv: {e}"),
    }
}

/// What `save` accepts, `load` gives back. The file store used to save a set with an empty
/// access token, then read it as `Corrupt`: the refresh token in it, and the set it replaced,
/// were gone. It now refuses such a set before touching the file (`MemoryStore`, which gives
/// any set back, still takes it).
#[test]
fn a_set_the_file_store_cannot_load_is_refused_by_save() {
    let dir = temp_dir("store-empty-at");
    let store = FileStore::new(dir.path()).unwrap();
    let only_rt = TokenSet::new("", Some(Secret::new("rt-live")), 0);
    let memory = authcore_std::store::MemoryStore::new();
    memory.save("k", &only_rt).unwrap();
    assert_eq!(memory.load("k").unwrap(), Some(only_rt.clone()));
    // Nothing saved yet: nothing is written.
    let saved = store.save("k", &only_rt);
    assert_eq!(store.load("k"), Ok(None), "save -> {saved:?}");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    // A set saved before stays.
    store.save("k", &set("old")).unwrap();
    let saved = store.save("k", &only_rt);
    assert_eq!(store.load("k"), Ok(Some(set("old"))), "save -> {saved:?}");
    assert_eq!(saved, Err(StoreError::EmptyAccessToken));
    assert_eq!(saved.unwrap_err().kind(), "store_empty_access_token");
    assert_eq!(leftovers(&store), Vec::<String>::new());
}

/// `FileStore::load` reads what `save` never writes as `StoreError::Corrupt`: a record with an
/// empty access token (`StoreError::EmptyAccessToken`'s docs) or of another format version
/// than 1 (a later format is not read as this one), not a set.
#[test]
fn records_save_never_writes_load_as_corrupt() {
    let dir = temp_dir("store-unwritten");
    let store = FileStore::new(dir.path()).unwrap();
    for (what, record) in [
        (
            "empty access token",
            r#"{"v":1,"access_token":"","refresh_token":"rt","expires_at":1700000000,"token_type":"Bearer","scope":null}"#,
        ),
        (
            "version 2",
            r#"{"v":2,"access_token":"at","refresh_token":"rt","expires_at":1700000000,"token_type":"Bearer","scope":null}"#,
        ),
    ] {
        fs::write(store.path_for("k"), record).unwrap();
        assert_eq!(store.load("k"), Err(StoreError::Corrupt), "{what}");
    }
    // The same record as version 1 with a token loads.
    fs::write(
        store.path_for("k"),
        r#"{"v":1,"access_token":"at","refresh_token":"rt","expires_at":1700000000,"token_type":"Bearer","scope":null}"#,
    )
    .unwrap();
    assert_eq!(
        store.load("k").unwrap(),
        Some(TokenSet::new("at", Some(Secret::new("rt")), 1_700_000_000))
    );
}
