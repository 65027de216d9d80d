//! The task server's tools, as the model sees them.

use rmcp::model::Tool;
use serde_json::Value;

use crate::llm::wire::ToolDefinition;

/// The task server's tools as the model's function definitions.
pub fn function_definitions(tools: &[Tool]) -> Vec<ToolDefinition> {
    tools
        .iter()
        .map(|tool| {
            ToolDefinition::function(
                tool.name.to_string(),
                tool.description.as_deref().unwrap_or_default(),
                Value::Object(tool.input_schema.as_ref().clone()),
            )
        })
        .collect()
}
