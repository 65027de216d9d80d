-- The task model: due dates, priorities, tags, repeating tasks, completion
-- time and full-text search. Existing rows keep working: no due date,
-- priority none (0), no tags, not repeating.

-- As the client gave it: a date (2026-12-24) or a date-time with its offset.
alter table tasks add column due text;
-- The sort key: the date, or the instant in UTC to the second
-- (2026-12-24T08:00:00Z); compared as text.
alter table tasks add column due_key text;
-- 0 none, 1 low, 2 medium, 3 high.
alter table tasks add column priority integer not null default 0;
-- The tags, sorted, one per line (as shown); task_tags is what filters.
alter table tasks add column tags text not null default '';
-- An RFC 5545 RRULE, and the due its series started from (COUNT counts
-- from there).
alter table tasks add column recurrence text;
alter table tasks add column recurrence_start text;
alter table tasks add column completed_at text;
-- Title and description folded for search (lower-case words without
-- accents), computed by the application; null until computed.
alter table tasks add column search_title text;
alter table tasks add column search_body text;

-- The rows whose text is not folded yet (from before this migration, or
-- written by an older release): what each start-up folds, found without
-- reading the table. New rows never enter this index.
create index if not exists tasks_unfolded on tasks (id) where search_title is null;

-- Partial: a task without a due date, or with priority none, costs these
-- indexes nothing on insert (most tasks). Every due filter compares due_key,
-- which implies it is not null; the priority filter is written with its
-- literal rank so that the planner sees it implies priority > 0. Sorting by
-- "updated" has no index of its own (updated_at changes on every write): it
-- sorts the user's tasks.
create index if not exists tasks_user_id_due_key on tasks (user_id, due_key, id) where due_key is not null;
create index if not exists tasks_user_id_priority on tasks (user_id, priority, id) where priority > 0;

-- One row per tag of a task: "tasks with any of these tags".
create table if not exists task_tags (
    task_id integer not null references tasks (id) on delete cascade,
    user_id text    not null,
    tag     text    not null,
    primary key (task_id, tag)
);
create index if not exists task_tags_user_id_tag on task_tags (user_id, tag, task_id);

-- Full-text index over the folded words, kept in step by triggers. A row is
-- in the index exactly when its search_title is not null: rows from before
-- this migration, or written by an older release, are added when their text
-- is folded (an FTS5 'delete' of a row it never indexed would corrupt it).
create virtual table if not exists tasks_fts using fts5 (
    search_title, search_body,
    content = 'tasks', content_rowid = 'id', columnsize = 0,
    tokenize = 'unicode61 remove_diacritics 2'
);
create trigger if not exists tasks_fts_insert after insert on tasks
when new.search_title is not null begin
    insert into tasks_fts (rowid, search_title, search_body)
    values (new.id, new.search_title, new.search_body);
end;
create trigger if not exists tasks_fts_delete after delete on tasks
when old.search_title is not null begin
    insert into tasks_fts (tasks_fts, rowid, search_title, search_body)
    values ('delete', old.id, old.search_title, old.search_body);
end;
create trigger if not exists tasks_fts_update after update of search_title, search_body on tasks
when old.search_title is not new.search_title or old.search_body is not new.search_body begin
    insert into tasks_fts (tasks_fts, rowid, search_title, search_body)
    select 'delete', old.id, old.search_title, old.search_body
    where old.search_title is not null;
    insert into tasks_fts (rowid, search_title, search_body)
    select new.id, new.search_title, new.search_body
    where new.search_title is not null;
end;
