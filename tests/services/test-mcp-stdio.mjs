// test-mcp-stdio.mjs: llmsbx mcp over stdio, driven by the official MCP SDK's client.
//
// The client is @modelcontextprotocol/sdk from npm (package-lock.json):
// nobody here wrote it, so what it accepts is what MCP clients accept. It
// also checks every structuredContent against the tool's outputSchema.
// Sandboxes are real ones, on the docker suite's dockerd.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { cli, serverEnv, textJson, waitForSandboxes, assertNothingLeft, sandboxes } from './mcp-test.mjs';

const transport = new StdioClientTransport({ command: cli, args: ['mcp'], env: serverEnv(), stderr: 'inherit' });
const client = new Client({ name: 'llmsbx-test', version: '1.0.0' });

after(async () => {
  await client.close();
  assertNothingLeft();
});

const execute = (args, options) => client.callTool({ name: 'execute_code', arguments: args }, undefined, options);

async function assertProtocolError(promise, code) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof McpError, `${error} is an McpError`);
    assert.equal(error.code, code);
    return true;
  });
}

test('initialize: the server says who it is and that it has tools', async () => {
  await client.connect(transport);
  assert.equal(client.getServerVersion().name, 'llmsbx');
  assert.ok(client.getServerCapabilities().tools);
  assert.match(client.getInstructions(), /sandbox/);
});

test('tools/list names the six tools, with schemas', async () => {
  const { tools } = await client.listTools();
  assert.ok(tools.find((t) => t.name === 'create_session').outputSchema.properties.interactive);
  assert.deepEqual(tools.map((t) => t.name).sort(),
                   ['close_session', 'create_session', 'execute_code', 'language_details',
                    'list_languages', 'run_in_session']);
  const executeCode = tools.find((t) => t.name === 'execute_code');
  assert.deepEqual(executeCode.inputSchema.required, ['code']);
  assert.ok(executeCode.outputSchema.properties.exit_code);
});

test('execute_code runs print(6*7) and returns 42', async () => {
  const result = await execute({ language: 'python', code: 'print(6*7)' });
  assert.equal(result.isError, false);
  assert.equal(result.structuredContent.stdout, '42\n');
  assert.equal(result.structuredContent.exit_code, 0);
  assert.deepEqual(textJson(result), result.structuredContent);
});

test('a program that fails is a result, with its exit code and stderr', async () => {
  const result = await execute({ code: 'import sys\nprint("bad", file=sys.stderr)\nsys.exit(3)' });
  assert.equal(result.isError, false);
  assert.equal(result.structuredContent.exit_code, 3);
  assert.equal(result.structuredContent.stderr, 'bad\n');
});

test('bad arguments are protocol errors (-32602)', async () => {
  await assertProtocolError(execute({ language: 'python' }), ErrorCode.InvalidParams);
  await assertProtocolError(execute({ code: 42 }), ErrorCode.InvalidParams);
  await assertProtocolError(execute({ code: 'print(1)', timeout: -1 }), ErrorCode.InvalidParams);
  await assertProtocolError(execute({ code: 'print(1)', libraries: 'numpy' }), ErrorCode.InvalidParams);
  await assertProtocolError(execute({ code: 'print(1)', shell: true }), ErrorCode.InvalidParams);
  await assertProtocolError(client.callTool({ name: 'rm_rf', arguments: {} }), ErrorCode.InvalidParams);
});

test('what cannot run is a tool error (isError), which the model reads', async () => {
  const unknown = await execute({ language: 'cobol', code: 'DISPLAY 1' });
  assert.equal(unknown.isError, true);
  assert.match(unknown.content[0].text, /cobol/i);

  // The production preset refuses what its policy blocks, before any sandbox.
  const refused = await execute({ code: 'import os\nos.system("id")' });
  assert.equal(refused.isError, true);
  assert.match(refused.content[0].text, /security policy/i);
});

test('output is bounded, and the result says it was cut', async () => {
  const result = await execute({ code: 'print("x" * 3_000_000)' });
  assert.equal(result.structuredContent.truncated, true);
  assert.equal(result.structuredContent.stdout.length, 1024 * 1024);
});

test('sandboxes have no network: only the loopback interface', async () => {
  const result = await execute({ code: 'print(sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").readlines()[2:]))' });
  assert.equal(result.structuredContent.stdout, "['lo']\n");
});

test('concurrent calls run side by side and each gets its own result', async () => {
  const results = await Promise.all([1, 2, 3].map((n) => execute({ code: `print(${n} * 100)` })));
  assert.deepEqual(results.map((r) => r.structuredContent.stdout), ['100\n', '200\n', '300\n']);
});

test('a timeout kills the code and says so', async () => {
  const result = await execute({ code: 'import time\nprint("started", flush=True)\ntime.sleep(60)', timeout: 1 });
  assert.equal(result.isError, true);
  assert.match(result.content[0].text, /timed out/i);
});

test('list_languages and language_details', async () => {
  const languages = await client.callTool({ name: 'list_languages', arguments: {} });
  assert.ok(languages.structuredContent.languages.includes('python'));
  const details = await client.callTool({ name: 'language_details', arguments: { language: 'Python' } });
  assert.equal(details.structuredContent.name, 'python');
  assert.equal(details.structuredContent.file_extension, 'py');
  assert.equal(details.structuredContent.preset, 'production');
  assert.equal(details.structuredContent.network, false);
});

test('a session is interactive: variables and files persist, until it is closed', async () => {
  const created = await client.callTool({ name: 'create_session', arguments: { language: 'python' } });
  assert.equal(created.isError, false);
  assert.equal(created.structuredContent.interactive, true);
  assert.equal(created.structuredContent.language, 'python');
  const id = created.structuredContent.session_id;
  const run = (code) => client.callTool({ name: 'run_in_session', arguments: { session_id: id, code } });

  const wrote = await run('x = 41\nimport json\nopen("notes.txt", "w").write("kept")');
  assert.equal(wrote.structuredContent.exit_code, 0);
  const variable = await run('print(x + 1)');
  assert.equal(variable.structuredContent.stdout, '42\n');
  // A final expression shows its value, as in the REPL; imports stay.
  const expression = await run('json.dumps({"x": x})');
  assert.equal(expression.structuredContent.stdout, `'{"x": 41}'\n`);
  const read = await run('print(open("notes.txt").read())');
  assert.equal(read.structuredContent.stdout, 'kept\n');
  // An exception ends the cell, not the state.
  const failed = await run('1 / 0');
  assert.equal(failed.structuredContent.exit_code, 1);
  assert.match(failed.structuredContent.stderr, /ZeroDivisionError/);
  assert.equal((await run('print(x)')).structuredContent.stdout, '41\n');
  // A cell that times out is interrupted; the error says the state is kept, and it is.
  const slow = await client.callTool({ name: 'run_in_session',
                                       arguments: { session_id: id, code: 'import time\nwhile True: time.sleep(0.05)', timeout: 1 } });
  assert.equal(slow.isError, true);
  assert.match(slow.content[0].text, /timed out.*state is kept/is);
  assert.equal((await run('print(x * 2)')).structuredContent.stdout, '82\n');

  const closed = await client.callTool({ name: 'close_session', arguments: { session_id: id } });
  assert.equal(closed.structuredContent.closed, true);
  const gone = await run('print(1)');
  assert.equal(gone.isError, true);
  assert.match(gone.content[0].text, /no session .*is open/i);
  await waitForSandboxes((n) => n === 0, 'after close_session');
});

test('a JavaScript session keeps its variables too', async () => {
  const created = await client.callTool({ name: 'create_session', arguments: { language: 'javascript' } });
  assert.equal(created.structuredContent.interactive, true);
  const id = created.structuredContent.session_id;
  const run = (code) => client.callTool({ name: 'run_in_session', arguments: { session_id: id, code } });
  assert.equal((await run('var y = 21;')).structuredContent.exit_code, 0);
  assert.equal((await run('console.log(y * 2)')).structuredContent.stdout, '42\n');
  await client.callTool({ name: 'close_session', arguments: { session_id: id } });
  await waitForSandboxes((n) => n === 0, 'after close_session');
});

test('concurrent calls into sessions: each session its own state, each call its own result', async () => {
  const ids = [];
  for (const n of [1, 2])
    ids.push((await client.callTool({ name: 'create_session', arguments: {} })).structuredContent.session_id);
  const run = (id, code) => client.callTool({ name: 'run_in_session', arguments: { session_id: id, code } });
  await Promise.all(ids.map((id, i) => run(id, `n = ${i + 1}`)));
  // Calls into one session wait for each other; calls into two run side by side.
  const results = await Promise.all([run(ids[0], 'n += 10\nprint(n)'), run(ids[0], 'n += 100\nprint(n)'),
                                     run(ids[1], 'print(n * 7)')]);
  const first = results.slice(0, 2).map((r) => r.structuredContent.stdout).sort();
  assert.ok(JSON.stringify(first) === JSON.stringify(['11\n', '111\n']) ||
            JSON.stringify(first) === JSON.stringify(['101\n', '111\n']), `one after the other: ${first}`);
  assert.equal(results[2].structuredContent.stdout, '14\n');
  for (const id of ids)
    await client.callTool({ name: 'close_session', arguments: { session_id: id } });
  await waitForSandboxes((n) => n === 0, 'after close_session');
});

test('bad arguments of the session tools are protocol errors (-32602)', async () => {
  const call = (name, args) => client.callTool({ name, arguments: args });
  await assertProtocolError(call('create_session', { language: 5 }), ErrorCode.InvalidParams);
  await assertProtocolError(call('create_session', { lang: 'python' }), ErrorCode.InvalidParams);
  await assertProtocolError(call('run_in_session', { code: 'print(1)' }), ErrorCode.InvalidParams);
  await assertProtocolError(call('run_in_session', { session_id: 1, code: 'print(1)' }), ErrorCode.InvalidParams);
  await assertProtocolError(call('run_in_session', { session_id: '1' }), ErrorCode.InvalidParams);
  await assertProtocolError(call('run_in_session', { session_id: '1', code: 'print(1)', timeout: 'soon' }),
                            ErrorCode.InvalidParams);
  await assertProtocolError(call('close_session', {}), ErrorCode.InvalidParams);
  // Ids nobody was given are a tool error, as another client's are.
  for (const id of ['999999', 'abc', '-1', ''])
    assert.equal((await call('run_in_session', { session_id: id, code: 'print(1)' })).isError, true, id);
  assert.equal((await call('close_session', { session_id: '999999' })).isError, true);
  assert.equal(sandboxes().length, 0);
});

test('execute_code returns its plots as image content', async () => {
  const result = await execute({ code: 'import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.show()\n' +
                                       'plt.bar(["a", "b"], [3, 5])\nplt.show()\nprint("drawn")' });
  assert.equal(result.isError, false);
  assert.equal(result.structuredContent.stdout, 'drawn\n');
  const images = result.content.filter((c) => c.type === 'image');
  assert.equal(images.length, 2);
  for (const image of images) {
    assert.equal(image.mimeType, 'image/png');
    assert.deepEqual([...Buffer.from(image.data, 'base64').subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  }
  // The structured result lists them, without their bytes a second time.
  assert.deepEqual(result.structuredContent.plots.map((p) => p.format), ['png', 'png']);
  assert.ok(result.structuredContent.plots[0].width > 0);
  assert.equal(result.structuredContent.plots[0].content_base64, undefined);
  assert.deepEqual(textJson(result), result.structuredContent);

  // A run that plots nothing has its text alone, as has a language without plot capture.
  const plain = await execute({ code: 'print(1)' });
  assert.deepEqual(plain.content.map((c) => c.type), ['text']);
  assert.equal(plain.structuredContent.plots, undefined);
  const javascript = await execute({ language: 'javascript', code: 'console.log(6 * 7)' });
  assert.equal(javascript.structuredContent.stdout, '42\n');
  assert.deepEqual(javascript.content.map((c) => c.type), ['text']);
});

test('a session unused for --idle-timeout is closed and its sandbox removed; one in use is not', async () => {
  const idleClient = new Client({ name: 'llmsbx-test-idle', version: '1.0.0' });
  await idleClient.connect(new StdioClientTransport({ command: cli, args: ['mcp', '--idle-timeout', '1.5'],
                                                      env: serverEnv(), stderr: 'inherit' }));
  try {
    const created = await idleClient.callTool({ name: 'create_session', arguments: {} });
    assert.equal(created.structuredContent.idle_timeout, 1.5);
    const id = created.structuredContent.session_id;
    const run = (code) => idleClient.callTool({ name: 'run_in_session', arguments: { session_id: id, code } });
    // A run longer than the expiry keeps the session: only unused time counts.
    assert.equal((await run('import time\ntime.sleep(3)\nx = 42')).structuredContent.exit_code, 0);
    assert.equal((await run('print(x)')).structuredContent.stdout, '42\n');
    await waitForSandboxes((n) => n === 0, 'after the idle timeout', 30);
    const expired = await run('print(x)');
    assert.equal(expired.isError, true);
    assert.match(expired.content[0].text, /no session .*is open/i);
  } finally {
    await idleClient.close();
  }
  assertNothingLeft();
});

test('without attached execs (bubblewrap), sessions keep files only, and say so', async () => {
  const bwrapClient = new Client({ name: 'llmsbx-test-bwrap', version: '1.0.0' });
  await bwrapClient.connect(new StdioClientTransport({ command: cli, args: ['mcp', '--backend', 'bubblewrap'],
                                                       env: serverEnv(), stderr: 'inherit' }));
  try {
    const created = await bwrapClient.callTool({ name: 'create_session', arguments: {} });
    assert.equal(created.isError, false);
    assert.equal(created.structuredContent.interactive, false);
    const id = created.structuredContent.session_id;
    const run = (code) => bwrapClient.callTool({ name: 'run_in_session', arguments: { session_id: id, code } });
    assert.equal((await run('x = 41\nopen("notes.txt", "w").write("kept")')).structuredContent.exit_code, 0);
    assert.equal((await run('print(open("notes.txt").read())')).structuredContent.stdout, 'kept\n');
    const variable = await run('print(x)');
    assert.match(variable.structuredContent.stderr, /NameError/);
    // Plots come back there too.
    const plotted = await bwrapClient.callTool({ name: 'execute_code', arguments: {
      code: 'import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()' } });
    assert.deepEqual(plotted.content.map((c) => c.type), ['text', 'image']);
  } finally {
    await bwrapClient.close();
  }
});

test('cancelling a call kills what it started and removes its sandbox', async () => {
  const controller = new AbortController();
  const call = execute({ code: 'import time\ntime.sleep(120)', timeout: 200 }, { signal: controller.signal, timeout: 300000 });
  await waitForSandboxes((n) => n === 1, 'while the call runs');
  controller.abort();
  await assert.rejects(call);
  await waitForSandboxes((n) => n === 0, 'after notifications/cancelled');
  // The server goes on serving.
  const result = await execute({ code: 'print("after")' });
  assert.equal(result.structuredContent.stdout, 'after\n');
});

test('closing stdin ends the server and its sessions', async () => {
  await client.callTool({ name: 'create_session', arguments: {} });
  assert.equal(sandboxes().length, 1);
  await client.close();
  assert.equal(transport.pid, null);
  assertNothingLeft();
});
