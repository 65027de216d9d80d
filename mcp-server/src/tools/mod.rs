//! The task tools: one file each, holding its arguments (whose doc comments
//! are the JSON Schema the model reads), its definition and its `run`, and
//! registered once, in [`registry`]. Adding a tool is one new file and one
//! line there.
//!
//! Arguments are deserialized here, by hand rather than through rmcp's
//! `Parameters` extractor, so that a wrong argument comes back as a tool
//! error (`isError: true`) the model can read and correct, as the MCP spec
//! asks for input validation errors, instead of a JSON-RPC error most hosts
//! hide from the model.

mod add_task;
mod add_tasks;
mod complete_task;
mod delete_task;
mod list_tasks;
pub mod registry;
pub mod result;
mod update_task;

pub use registry::{Registry, TaskTool, ToolFailure};

/// Every tool this server offers, in the order `tools/list` gives them.
pub fn registry() -> Registry {
    Registry::new(vec![
        registry::entry::<add_task::AddTask>(),
        registry::entry::<add_tasks::AddTasks>(),
        registry::entry::<list_tasks::ListTasks>(),
        registry::entry::<complete_task::CompleteTask>(),
        registry::entry::<delete_task::DeleteTask>(),
        registry::entry::<update_task::UpdateTask>(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_object_schemas_and_annotations() {
        for tool in registry().definitions() {
            assert_eq!(
                tool.input_schema.get("type"),
                Some(&serde_json::json!("object")),
                "{}",
                tool.name
            );
            let output = tool.output_schema.as_ref().map(|s| s.get("type").cloned());
            assert_eq!(
                output,
                Some(Some(serde_json::json!("object"))),
                "{}",
                tool.name
            );
            let annotations = tool.annotations.as_ref();
            assert_eq!(
                annotations.and_then(|a| a.open_world_hint),
                Some(false),
                "{}",
                tool.name
            );
            assert!(
                tool.description.as_ref().is_some_and(|d| d.len() > 60),
                "{}",
                tool.name
            );
        }
    }

    #[test]
    fn arguments_reject_unknown_fields_such_as_a_user_id() {
        let err = registry::parse_args::<add_task::AddTaskArgs>(
            "add_task",
            serde_json::json!({"title": "x", "user_id": "bob"}),
        );
        let message = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.starts_with("Invalid arguments for add_task: unknown field `user_id`"),
            "{message}"
        );
    }
}
