//! runbom's server: the ingest and query HTTP API, authentication, the dashboard with live
//! updates, the webhook notifier and the advisory feed poller.
