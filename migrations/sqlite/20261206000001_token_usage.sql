-- Model tokens each user's turns used per UTC day (YYYY-MM-DD), as the model
-- reported them: the gateway's daily budget reads and adds to it. Rows older
-- than a few days are purged by the gateway.
create table if not exists token_usage (
    user_id text    not null,
    day     text    not null,
    tokens  integer not null default 0,
    primary key (user_id, day)
);

create index if not exists token_usage_day on token_usage (day);
