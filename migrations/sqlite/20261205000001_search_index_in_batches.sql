-- The full-text index is brought up to date in batches instead of by each
-- write: an FTS5 insert committed alone writes a new index segment (and the
-- index's structure record) every time, which more than halved the rate of
-- single writes. Now a write only queues its row here (by trigger, so every
-- writer does it, whatever its release), and the task server indexes the
-- queue a few milliseconds later in one transaction, and before any search,
-- so that a search always sees every committed change.
--
-- One row per task whose text changed since it was last indexed, holding
-- the text the index has for it (null: none), which FTS5 needs to take a
-- row out of an external-content index. The first change since indexing
-- records it; later changes keep it.
create table if not exists tasks_fts_pending (
    id            integer primary key,
    indexed_title text,
    indexed_body  text
);

drop trigger if exists tasks_fts_insert;
drop trigger if exists tasks_fts_delete;
drop trigger if exists tasks_fts_update;

-- Until now a row was in the index exactly when its search_title was set,
-- and the index held that text: what the triggers below record as "what
-- the index has".
create trigger if not exists tasks_fts_queue_insert after insert on tasks
begin
    insert into tasks_fts_pending (id) values (new.id) on conflict (id) do nothing;
end;
create trigger if not exists tasks_fts_queue_delete after delete on tasks
begin
    insert into tasks_fts_pending (id, indexed_title, indexed_body)
    values (old.id, old.search_title, old.search_body) on conflict (id) do nothing;
end;
create trigger if not exists tasks_fts_queue_update after update of search_title, search_body on tasks
when old.search_title is not new.search_title or old.search_body is not new.search_body begin
    insert into tasks_fts_pending (id, indexed_title, indexed_body)
    values (old.id, old.search_title, old.search_body) on conflict (id) do nothing;
end;
