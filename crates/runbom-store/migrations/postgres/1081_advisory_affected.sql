-- The package index keeps, beside each (ecosystem, name, advisory), the record's `affected`
-- entries (JSON), so that a lookup for one version decodes a full record only when its ranges
-- hold that version: a Go binary's `stdlib` has hundreds of records, most about other Go
-- versions. Imports write only the entries about the package, with their package, ranges and
-- versions; rows from before get the record's whole `affected` list here (the reader picks the
-- entries about the package itself). NULL means unknown: the lookup reads the record.

ALTER TABLE advisory_packages ADD COLUMN affected TEXT;

UPDATE advisory_packages SET affected = (
    SELECT (a.record::jsonb -> 'affected')::text FROM advisories a
    WHERE a.id = advisory_packages.advisory_id
);
