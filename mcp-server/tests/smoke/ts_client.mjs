// Smoke test: the official MCP TypeScript SDK client drives todo-mcp over stdio and HTTP.
//
// Usage: node ts_client.mjs stdio BINARY DATABASE_URL
//        node ts_client.mjs http URL TOKEN
// Prints one JSON line per check and exits non-zero on the first failure.
// The SDK validates structuredContent against each tool's outputSchema.

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

const EXPECTED_TOOLS = ['add_task', 'complete_task', 'delete_task', 'list_tasks', 'update_task'];

function check(condition, message) {
  console.log(JSON.stringify({ ok: Boolean(condition), check: message }));
  if (!condition) process.exit(1);
}

const [mode, target, secondArg] = process.argv.slice(2);
const transport =
  mode === 'stdio'
    ? new StdioClientTransport({ command: target, args: ['--user', 'ts-smoke'], env: { DATABASE_URL: secondArg }, stderr: 'ignore' })
    : new StreamableHTTPClientTransport(new URL(target), { requestInit: { headers: { Authorization: `Bearer ${secondArg}` } } });

const client = new Client({ name: 'todo-mcp-ts-smoke', version: '1.0.0' });
await client.connect(transport);
check(client.getServerVersion()?.name === 'todo-mcp', `${mode}: server reports its name`);

const { tools } = await client.listTools();
const names = tools.map((t) => t.name).sort();
check(JSON.stringify(names) === JSON.stringify(EXPECTED_TOOLS), `${mode}: lists the five tools (${names})`);

const title = `smoke via ${mode} from TypeScript`;
const added = await client.callTool({ name: 'add_task', arguments: { title } });
check(!added.isError && added.structuredContent?.status === 'created', `${mode}: add_task succeeds with a structured result`);

const listed = await client.callTool({ name: 'list_tasks', arguments: { status: 'pending' } });
check(listed.structuredContent?.tasks?.some((t) => t.title === title), `${mode}: list_tasks shows the new task`);

const done = await client.callTool({ name: 'complete_task', arguments: { task_id: added.structuredContent.task_id } });
check(done.structuredContent?.completed === true, `${mode}: complete_task marks it done`);

const missing = await client.callTool({ name: 'delete_task', arguments: { task_id: 987654321 } });
check(missing.isError === true && missing.content[0].text === 'Task 987654321 not found', `${mode}: a missing task is a readable tool error`);

await client.close();
