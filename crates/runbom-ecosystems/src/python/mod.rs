//! Python: distributions installed for an interpreter (`*.dist-info`, `*.egg-info`), and the
//! runtime hook that records which modules a live interpreter imports.
