-- Chat conversations of the gateway, one row per conversation, always read and
-- written with the owner's user_id.
create table if not exists conversations (
    id           integer primary key autoincrement,
    user_id      text    not null,
    -- The start of the first message.
    title        text    not null,
    created_at   text    not null,
    updated_at   text    not null,
    -- A turn in progress holds a lease (owner token, expiry in Unix ms) so that
    -- two requests on one conversation, on any gateway instance, run one after
    -- the other; an expired lease (a crashed gateway) is simply taken over.
    lease_owner  text,
    lease_until  integer
);

-- The user's conversations, newest activity first.
create index if not exists conversations_user_id_updated on conversations (user_id, updated_at, id);

-- Messages in order. role: user, assistant or tool. An assistant message keeps
-- the tool calls it made (JSON, as the model sent them, provider fields
-- included); a tool message keeps the call it answers, the tool's name, its
-- result (content) and whether it was an error.
create table if not exists messages (
    id              integer primary key autoincrement,
    conversation_id integer not null references conversations (id) on delete cascade,
    role            text    not null check (role in ('user', 'assistant', 'tool')),
    content         text,
    tool_calls      text,
    tool_call_id    text,
    tool_name       text,
    is_error        boolean,
    created_at      text    not null
);

create index if not exists messages_conversation_id_id on messages (conversation_id, id);
