//! What a tool is ([`TaskTool`]), and the table that finds one by name and
//! runs it: arguments parsed, the tool run for its caller, its result
//! encoded.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rmcp::handler::server::common::{schema_for_input, schema_for_output};
use rmcp::model::{CallToolResult, ContentBlock, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use todo_domain::{Error, Store};
use todo_server::Caller;

/// One task tool.
pub trait TaskTool {
    /// Its arguments; their JSON Schema is the tool's input schema.
    type Args: DeserializeOwned + JsonSchema + 'static;
    /// Its result; their JSON Schema is the tool's output schema.
    type Output: Serialize + JsonSchema + 'static;

    /// The name models call it by.
    const NAME: &'static str;
    /// For people, in a host's user interface.
    const TITLE: &'static str;
    /// For the model: when to use it and how.
    const DESCRIPTION: &'static str;
    /// What it does to the user's tasks, as MCP's annotations say it.
    const HINTS: Hints;

    /// Do it, for `caller`.
    fn run(
        store: &Store,
        caller: &Caller,
        args: Self::Args,
    ) -> impl Future<Output = Result<Self::Output, Error>> + Send;
}

/// MCP's behaviour hints of a tool (all our tools stay within the user's
/// task list: none is open-world).
#[derive(Debug, Clone, Copy)]
pub struct Hints {
    /// It changes nothing.
    pub read_only: bool,
    /// It may destroy or overwrite what the user had.
    pub destructive: bool,
    /// Calling it again with the same arguments changes nothing more.
    pub idempotent: bool,
}

impl Hints {
    /// Reads only.
    pub const READS: Self = Self::new(true, false, true);
    /// Adds something new each time it is called.
    pub const ADDS: Self = Self::new(false, false, false);
    /// Moves a task on in a way that loses nothing, each time it is called
    /// (completing a repeating task moves it to its next occurrence).
    pub const ADVANCES: Self = Self::new(false, false, false);
    /// Overwrites or removes what the user had, once.
    pub const OVERWRITES: Self = Self::new(false, true, true);

    const fn new(read_only: bool, destructive: bool, idempotent: bool) -> Self {
        Self {
            read_only,
            destructive,
            idempotent,
        }
    }
}

/// Why a call has no result: the domain's refusal, arguments that do not
/// parse, or a tool that does not exist.
#[derive(Debug, thiserror::Error)]
pub enum ToolFailure {
    #[error("{0}")]
    Domain(#[from] Error),
    #[error("Invalid arguments for {tool}: {message}")]
    BadArguments { tool: String, message: String },
    #[error("Unknown tool: {0}")]
    UnknownTool(String),
}

type Call = Result<CallToolResult, ToolFailure>;
type Run = for<'a> fn(
    &'a Store,
    &'a Caller,
    serde_json::Value,
) -> Pin<Box<dyn Future<Output = Call> + Send + 'a>>;

/// A tool in the table: its definition and how to run it.
pub struct Entry {
    definition: Tool,
    run: Run,
}

/// `T`, ready for the table.
pub fn entry<T: TaskTool>() -> Entry {
    Entry {
        definition: definition::<T>(),
        run: |store, caller, args| {
            Box::pin(async move {
                let args = parse_args::<T::Args>(T::NAME, args)?;
                let output = T::run(store, caller, args).await?;
                Ok(structured(&output))
            })
        },
    }
}

/// The tools, found by name. Built once per process.
#[derive(Clone)]
pub struct Registry {
    entries: Arc<[Entry]>,
}

impl Registry {
    pub fn new(entries: Vec<Entry>) -> Self {
        Self {
            entries: entries.into(),
        }
    }

    /// The definitions, for `tools/list`.
    pub fn definitions(&self) -> Vec<Tool> {
        self.entries.iter().map(|e| e.definition.clone()).collect()
    }

    pub fn definition(&self, name: &str) -> Option<&Tool> {
        self.find(name).map(|e| &e.definition)
    }

    /// Run the tool `name` for `caller` with the client's arguments.
    pub async fn call(
        &self,
        store: &Store,
        caller: &Caller,
        name: &str,
        args: serde_json::Value,
    ) -> Call {
        let entry = self
            .find(name)
            .ok_or_else(|| ToolFailure::UnknownTool(name.to_owned()))?;
        (entry.run)(store, caller, args).await
    }

    fn find(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.definition.name == name)
    }
}

fn definition<T: TaskTool>() -> Tool {
    // The argument structs are objects by construction; an error here is a
    // programming error caught by the test that lists the tools.
    let input = schema_for_input::<T::Args>().unwrap_or_else(|_| Arc::default());
    let annotations = ToolAnnotations::with_title(T::TITLE)
        .read_only(T::HINTS.read_only)
        .destructive(T::HINTS.destructive)
        .idempotent(T::HINTS.idempotent)
        .open_world(false);
    Tool::new(Cow::Borrowed(T::NAME), Cow::Borrowed(T::DESCRIPTION), input)
        .with_title(T::TITLE)
        .with_raw_output_schema(schema_for_output::<T::Output>())
        .with_annotations(annotations)
}

pub(super) fn parse_args<T: DeserializeOwned>(
    tool: &str,
    args: serde_json::Value,
) -> Result<T, ToolFailure> {
    serde_json::from_value(args).map_err(|e| ToolFailure::BadArguments {
        tool: tool.to_owned(),
        message: e.to_string(),
    })
}

fn structured<T: Serialize>(value: &T) -> CallToolResult {
    // Serializing these plain structs cannot fail; if it ever did, the text
    // content would say so rather than the call panicking.
    match serde_json::to_value(value) {
        Ok(value) => CallToolResult::structured(value),
        Err(e) => CallToolResult::error(vec![ContentBlock::text(format!(
            "cannot encode the result: {e}"
        ))]),
    }
}
