-- Tasks, one row per task, always read and written with the owner's user_id.
-- AUTOINCREMENT so that an id is never reused after a delete: a model that
-- remembers "task 5" must never act on a different task 5.
create table if not exists tasks (
    id          integer primary key autoincrement,
    user_id     text    not null,
    title       text    not null,
    description text,
    completed   boolean not null default false,
    created_at  text    not null,
    updated_at  text    not null
);

-- list_tasks without a status filter: where user_id = ? order by id desc
create index if not exists tasks_user_id_id on tasks (user_id, id);
-- list_tasks with a status filter: where user_id = ? and completed = ? order by id desc
create index if not exists tasks_user_id_completed_id on tasks (user_id, completed, id);
