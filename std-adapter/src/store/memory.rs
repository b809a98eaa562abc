//! An in-memory token store.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use super::{StoreError, TokenSet, TokenStore};

/// Token sets in a map behind a mutex. Nothing survives the process.
#[derive(Default)]
pub struct MemoryStore {
    sets: Mutex<HashMap<String, TokenSet>>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self
            .sets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("MemoryStore").field("sets", &len).finish()
    }
}

impl TokenStore for MemoryStore {
    fn load(&self, key: &str) -> Result<Option<TokenSet>, StoreError> {
        let sets = self.sets.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(sets.get(key).cloned())
    }

    fn save(&self, key: &str, set: &TokenSet) -> Result<(), StoreError> {
        let mut sets = self.sets.lock().unwrap_or_else(PoisonError::into_inner);
        sets.insert(key.to_owned(), set.clone());
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<(), StoreError> {
        let mut sets = self.sets.lock().unwrap_or_else(PoisonError::into_inner);
        sets.remove(key);
        Ok(())
    }
}
