use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::lock;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::model::{ConnectionId, ObjectType};
use crate::store::{Lease, LeaseManager};

/// The last token handed out, and the lease per (connection, object).
type Leases = (u64, HashMap<(ConnectionId, ObjectType), Lease>);

/// [`LeaseManager`] in memory, on an injectable clock.
#[derive(Debug)]
pub struct MemoryLeases {
    clock: Arc<dyn Clock>,
    state: Mutex<Leases>,
}

impl MemoryLeases {
    /// Leases on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// Leases on `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            state: Mutex::new((0, HashMap::new())),
        }
    }
}

impl Default for MemoryLeases {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl LeaseManager for MemoryLeases {
    async fn acquire(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        holder: &str,
        duration: Duration,
    ) -> Result<Option<Lease>> {
        let now = self.clock.now();
        let mut state = lock(&self.state);
        let key = (connection.clone(), object.clone());
        if let Some(held) = state.1.get(&key) {
            if held.expires_at > now {
                return Ok(None);
            }
        }
        state.0 += 1;
        let lease = Lease {
            connection: connection.clone(),
            object: object.clone(),
            holder: holder.to_owned(),
            token: state.0,
            expires_at: crate::clock::after(now, duration),
        };
        state.1.insert(key, lease.clone());
        Ok(Some(lease))
    }

    async fn renew(&self, lease: &Lease, duration: Duration) -> Result<Lease> {
        let now = self.clock.now();
        let mut state = lock(&self.state);
        let key = (lease.connection.clone(), lease.object.clone());
        match state.1.get_mut(&key) {
            Some(held) if held.token == lease.token && held.expires_at > now => {
                held.expires_at = crate::clock::after(now, duration);
                Ok(held.clone())
            }
            _ => Err(Error::precondition(format!(
                "lease on {}/{} is no longer held by {}",
                lease.connection, lease.object, lease.holder
            ))),
        }
    }

    async fn release(&self, lease: &Lease) -> Result<()> {
        let mut state = lock(&self.state);
        let key = (lease.connection.clone(), lease.object.clone());
        if state
            .1
            .get(&key)
            .is_some_and(|held| held.token == lease.token)
        {
            state.1.remove(&key);
        }
        Ok(())
    }
}
