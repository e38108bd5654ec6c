-- Retention (`runbom serve --keep-…`): the change log and finished webhook deliveries are
-- forgotten by age, oldest first, through these indexes. Gone instances use `instances_live`,
-- trend snapshots their primary key.

CREATE INDEX change_log_at ON change_log (at);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);
