//! Conversations of the chat gateway: what a client may send ([`input`]),
//! what is stored ([`message`]) and what may be done with them
//! ([`service`]), re-exported here (`conversation::append(…)`).

pub mod input;
pub mod message;
pub mod service;

pub use input::{ConversationId, MAX_MESSAGE_CHARS, MessageText, TITLE_CHARS};
pub use message::{Conversation, Message, MessageBody, Role};
pub use service::{
    BUSY_MESSAGE, Hold, append, delete, get, list, page, recent, release_lease, start,
};
