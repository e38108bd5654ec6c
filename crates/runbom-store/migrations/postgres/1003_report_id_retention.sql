-- Report ids are kept to answer a resend with "duplicate", not forever: the server forgets ids
-- older than its retention (`runbom serve --keep-report-ids`), oldest first, through this index.

CREATE INDEX reports_received ON reports (received_at);
