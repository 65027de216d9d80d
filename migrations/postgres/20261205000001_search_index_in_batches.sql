-- Nothing to do on PostgreSQL: its GIN index already gathers new entries in
-- a pending list and merges them in batches (fastupdate). On SQLite this
-- migration moves the full-text index to batched updates.
select 1;
