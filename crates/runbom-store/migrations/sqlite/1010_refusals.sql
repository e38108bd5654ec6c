-- Imports an enforcing hook refused (or, in monitor mode, would have): one row per instance,
-- process, module and file, kept while the instance lives (a `refused` finding is derived).
CREATE TABLE refusals (
    instance_id  INTEGER NOT NULL,
    pid          INTEGER NOT NULL,
    module       TEXT NOT NULL,
    file         TEXT NOT NULL,
    distribution TEXT NOT NULL,
    version      TEXT NOT NULL,
    rule         TEXT NOT NULL,
    why          TEXT NOT NULL,
    config_line  INTEGER NOT NULL,
    importer     TEXT NOT NULL,
    enforced     INTEGER NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (instance_id, pid, module, file)
);
