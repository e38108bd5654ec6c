//! The server's portfolio: applications → environments → instances (one observed program run
//! each, with heartbeat and a `gone` mark) → observations (the components an instance has
//! installed and loaded). Also what the package indexes say of the projects they run, the server's tokens, teams, users and sessions, expected inventories per release, findings,
//! webhooks with their delivery log, and the change log other server processes poll.
//!
//! Times are Unix milliseconds (`i64`). Instances are keyed by `(app, session_id)`: a session is
//! one program run, reported many times.

mod access;
mod alerts;
mod expected;
mod findings;
mod heartbeats;
mod ingest;
mod leases;
mod refusals;
mod releases;
mod retention;
mod tokens;
mod triage;
mod views;

pub use access::{SessionRecord, TeamRecord, UserRecord};
pub use alerts::{Delivery, Webhook};
pub use findings::{AdvisoryMatch, Alert, AlertReason, FindingRecord, LiveComponent, NewFinding};
pub use heartbeats::{HeartbeatOutcome, IncomingHeartbeat, STATE_DIGEST_LEN, state_digest};
pub use ingest::{IncomingReport, IngestOutcome};
pub use leases::SessionLock;
pub use refusals::LiveRefusal;
pub use releases::IndexProject;
pub use retention::{Cutoffs, Forgotten};
pub use tokens::TokenRecord;
pub use triage::{Analysis, AuditEntry, DETECTOR, SUPPRESSING_STATES, evidence_of};
pub use views::{ApplicationSummary, ComponentUse, InstanceView, KpiSnapshot, Overview, SearchHit};
