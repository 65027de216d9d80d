-- Tasks, one row per task, always read and written with the owner's user_id.
create table if not exists tasks (
    id          bigint generated always as identity primary key,
    user_id     text        not null,
    title       text        not null,
    description text,
    completed   boolean     not null default false,
    created_at  timestamptz not null,
    updated_at  timestamptz not null
);

-- list_tasks without a status filter: where user_id = $1 order by id desc
create index if not exists tasks_user_id_id on tasks (user_id, id);
-- list_tasks with a status filter: where user_id = $1 and completed = $2 order by id desc
create index if not exists tasks_user_id_completed_id on tasks (user_id, completed, id);
