//! Tasks: what a client may send ([`input`], [`due`], [`priority`],
//! [`tags`], [`recurrence`], [`new`], [`patch`], [`listing`]), what is stored
//! ([`model`]), what may be done with them ([`service`], [`bulk`]) and how
//! they look on the wire ([`view`]). The functions and types are
//! re-exported here, so callers write `task::add(…)` and `task::Title`.

pub mod bulk;
mod completion;
pub mod due;
pub mod input;
pub mod listing;
pub mod model;
pub mod new;
pub mod patch;
pub mod priority;
pub mod recurrence;
pub mod search;
pub mod service;
pub mod tags;
pub mod view;

pub use bulk::{TaskIds, TaskTarget, complete_many, delete_many, update_many};
pub use due::{Due, DueBound};
pub use input::{Description, MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, StatusFilter, TaskId, Title};
pub use listing::{Cursor, ListRequest, Sort, TaskFilter};
pub use model::{Completed, Task, TaskPage};
pub use new::{NewTask, RawNewTask};
pub use patch::{RawPatch, TaskPatch, present};
pub use priority::Priority;
pub use recurrence::Recurrence;
pub use search::SearchQuery;
pub use service::{add, add_many, complete, delete, get, list, update};
pub use tags::{Tag, Tags, parse_tag_list};
pub use view::{TaskItem, TaskList};
