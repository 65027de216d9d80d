// Smoke test: the official MCP TypeScript SDK client drives todo-mcp over stdio and HTTP.
//
// Usage: node ts_client.mjs stdio BINARY DATABASE_URL
//        node ts_client.mjs http URL TOKEN
// Prints one JSON line per check and exits non-zero on the first failure.
// The SDK validates structuredContent against each tool's outputSchema.

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

const EXPECTED_TOOLS = ['add_task', 'add_tasks', 'complete_task', 'delete_task', 'list_tasks', 'update_task'];

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
check(JSON.stringify(names) === JSON.stringify(EXPECTED_TOOLS), `${mode}: lists the six tools (${names})`);

const title = `smoke via ${mode} from TypeScript`;
const added = await client.callTool({ name: 'add_task', arguments: { title } });
check(!added.isError && added.structuredContent?.status === 'created', `${mode}: add_task succeeds with a structured result`);

const listed = await client.callTool({ name: 'list_tasks', arguments: { status: 'pending' } });
check(listed.structuredContent?.tasks?.some((t) => t.title === title), `${mode}: list_tasks shows the new task`);

const done = await client.callTool({ name: 'complete_task', arguments: { task_id: added.structuredContent.task_id } });
check(done.structuredContent?.completed === true, `${mode}: complete_task marks it done`);

const missing = await client.callTool({ name: 'delete_task', arguments: { task_id: 987654321 } });
check(missing.isError === true && missing.content[0].text === 'Task 987654321 not found', `${mode}: a missing task is a readable tool error`);

// The task model; the SDK validates every structured result against its schema.
const rent = await client.callTool({
  name: 'add_task',
  arguments: { title: `Pay the rent (${mode})`, due: '2027-01-31', priority: 'medium', tags: ['Home', mode], recurrence: 'FREQ=MONTHLY;BYMONTHDAY=31' },
});
check(rent.structuredContent?.due === '2027-01-31' && rent.structuredContent?.tags?.[0] === 'home', `${mode}: add_task keeps due and tags`);
const moved = await client.callTool({ name: 'complete_task', arguments: { task_ids: [rent.structuredContent.task_id] } });
check(moved.structuredContent?.tasks?.[0]?.due === '2027-03-31' && moved.structuredContent.tasks[0].recurred === true, `${mode}: monthly on the 31st skips February`);
const updated = await client.callTool({ name: 'update_task', arguments: { task_id: rent.structuredContent.task_id, due: null, recurrence: null, add_tags: ['bills'] } });
check(updated.structuredContent?.due === null && updated.structuredContent?.recurrence === null && updated.structuredContent?.tags?.join() === `bills,home,${mode}`, `${mode}: update_task clears due and recurrence and adds a tag`);
const byTag = await client.callTool({ name: 'list_tasks', arguments: { tags: [mode.toUpperCase()], sort: 'due', priority: 'medium' } });
check(byTag.structuredContent?.tasks?.length === 1, `${mode}: list_tasks filters by tag and priority`);

await client.close();
