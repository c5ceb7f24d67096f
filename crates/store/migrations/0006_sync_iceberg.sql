-- Iceberg in sync jobs: the REST catalog a job's Iceberg table lives in
-- (NULL: the workspace's embedded catalog), and the Iceberg table a chained
-- job stages its changes in (source → via → target in one run).

ALTER TABLE sync_jobs ADD COLUMN iceberg_catalog TEXT;  -- JSON {url, warehouse, token_env}; never a secret
ALTER TABLE sync_jobs ADD COLUMN via TEXT;              -- iceberg:NAMESPACE.TABLE, or NULL
