//! Answers kept with their ETags.

use std::collections::HashMap;
use std::sync::Mutex;

/// Values kept by key with the ETag they came with: send the ETag as `If-None-Match`,
/// and on a 304 use the value kept. Bounded: past `capacity` entries the oldest goes.
///
/// ```
/// use devflow_sync_core::api::EtagCache;
/// let cache: EtagCache<Vec<u32>> = EtagCache::new(2);
/// cache.put("a", "W/\"1\"", vec![1]);
/// cache.put("b", "W/\"2\"", vec![2]);
/// cache.put("c", "W/\"3\"", vec![3]);
/// assert!(cache.get("a").is_none(), "the oldest went");
/// assert_eq!(cache.get("c"), Some(("W/\"3\"".to_owned(), vec![3])));
/// ```
#[derive(Debug)]
pub struct EtagCache<V> {
    capacity: usize,
    entries: Mutex<Entries<V>>,
}

/// A use counter, and per key: when last put, the ETag, the value.
type Entries<V> = (u64, HashMap<String, (u64, String, V)>);

impl<V: Clone> EtagCache<V> {
    /// A cache of at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            entries: Mutex::new((0, HashMap::new())),
        }
    }

    /// The ETag and value kept for `key`.
    pub fn get(&self, key: &str) -> Option<(String, V)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .1
            .get(key)
            .map(|(_, etag, value)| (etag.clone(), value.clone()))
    }

    /// Keeps `value` with `etag` under `key`.
    pub fn put(&self, key: impl Into<String>, etag: impl Into<String>, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (clock, map) = &mut *entries;
        *clock += 1;
        let stamp = *clock;
        map.insert(key.into(), (stamp, etag.into(), value));
        if map.len() > self.capacity {
            let oldest = map
                .iter()
                .min_by_key(|(_, (stamp, _, _))| *stamp)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                map.remove(&k);
            }
        }
    }
}
