//! runbom's store: advisories, runtime reports and the portfolio, behind one interface with two
//! engines — SQLite (a file, the embedded default) and PostgreSQL (many servers, one database).
