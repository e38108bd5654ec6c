//! The store leases that let one of several server processes sharing a store run a poller (the
//! advisory feed, the package indexes): the holder renews its lease at every turn; another
//! process takes over once the holder's lease expired (it stopped or died).

use std::time::Duration;

use runbom_store::Store;

use crate::time::now_ms;

/// The shortest time a lease is held: long enough to cover one poll.
const LEASE_MIN: Duration = Duration::from_secs(600);

/// One named lease as this process asks for it.
#[derive(Debug, Clone)]
pub(crate) struct Lease {
    name: &'static str,
    holder: String,
    length_ms: i64,
}

impl Lease {
    /// The lease `name` for a poller that runs every `interval` (held at least 10 minutes).
    pub(crate) fn new(name: &'static str, interval: Duration) -> Self {
        Lease {
            name,
            holder: format!("{:016x}", rand::random::<u64>()),
            length_ms: i64::try_from(interval.max(LEASE_MIN).as_millis()).unwrap_or(i64::MAX),
        }
    }

    /// Takes or renews the lease: whether this process may poll now. A store that cannot be
    /// asked is a "no", logged.
    pub(crate) async fn take(&self, store: &Store) -> bool {
        let now = now_ms();
        match store
            .take_lease(
                self.name,
                &self.holder,
                now,
                now.saturating_add(self.length_ms),
            )
            .await
        {
            Ok(true) => true,
            Ok(false) => {
                tracing::debug!(lease = self.name, "another server process holds the lease");
                false
            }
            Err(err) => {
                tracing::warn!(lease = self.name, "cannot take the lease: {err}");
                false
            }
        }
    }
}
