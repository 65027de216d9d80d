-- The task model: due dates, priorities, tags, repeating tasks, completion
-- time and full-text search. Existing rows keep working: no due date,
-- priority none (0), no tags, not repeating.

alter table tasks
    -- As the client gave it: a date (2026-12-24) or a date-time with its offset.
    add column if not exists due text,
    -- The sort key: the date, or the instant in UTC to the second
    -- (2026-12-24T08:00:00Z); compared as text.
    add column if not exists due_key text collate "C",
    -- 0 none, 1 low, 2 medium, 3 high.
    add column if not exists priority integer not null default 0,
    -- The tags, sorted, one per line (as shown); task_tags is what filters.
    add column if not exists tags text not null default '',
    -- An RFC 5545 RRULE, and the due its series started from.
    add column if not exists recurrence text,
    add column if not exists recurrence_start text,
    add column if not exists completed_at timestamptz,
    -- Title and description folded for search (lower-case words without
    -- accents), computed by the application; null until computed.
    add column if not exists search_title text,
    add column if not exists search_body text;

-- The folded words, the title's weighted A so that a search can rank title
-- matches first.
alter table tasks add column if not exists search tsvector
    generated always as (
        setweight(to_tsvector('simple', coalesce(search_title, '')), 'A')
        || setweight(to_tsvector('simple', coalesce(search_body, '')), 'B')
    ) stored;

create index if not exists tasks_search on tasks using gin (search);
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
    task_id bigint not null references tasks (id) on delete cascade,
    user_id text   not null,
    tag     text   not null,
    primary key (task_id, tag)
);
create index if not exists task_tags_user_id_tag on task_tags (user_id, tag, task_id);
