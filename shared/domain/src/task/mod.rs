//! Tasks: what a client may send ([`input`]), what is stored ([`model`]),
//! what may be done with them ([`service`]) and how they look on the wire
//! ([`view`]). The functions and types are re-exported here, so callers
//! write `task::add(…)` and `task::Title`.

pub mod input;
pub mod model;
pub mod service;
pub mod view;

pub use input::{
    Cursor, Description, MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, StatusFilter, TaskId, TaskPatch,
    Title,
};
pub use model::{Completed, Task, TaskPage};
pub use service::{add, complete, delete, get, list, update};
pub use view::{TaskItem, TaskList};
