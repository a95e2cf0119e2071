// test-mcp-http.mjs: llmsbx mcp over Streamable HTTP, driven by the official MCP SDK's client.
//
// One server with a bearer token (from LLMSBX_MCP_TOKEN, as an operator
// would give it) on 127.0.0.1. The SDK's client does what MCP clients do;
// raw fetch() does what they must not, and gets the HTTP errors the spec
// names. Sandboxes are real ones, on the docker suite's dockerd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { startHttpServer, textJson, waitForSandboxes, assertNothingLeft, sandboxes } from './mcp-test.mjs';

const token = randomBytes(16).toString('hex');
const maxMessageSize = 64 * 1024;
let server;

before(async () => {
  server = await startHttpServer(['--max-message-size', String(maxMessageSize)], { LLMSBX_MCP_TOKEN: token });
});

after(async () => {
  await server.stop();
  assertNothingLeft();
});

function connect(headers = { Authorization: `Bearer ${token}` }) {
  const client = new Client({ name: 'llmsbx-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers } });
  return { client, transport, ready: client.connect(transport) };
}

const initializeBody = JSON.stringify({
  jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

function post(body, headers = {}) {
  return fetch(server.url, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...headers,
    },
    body,
  });
}

// A raw client's session: the Mcp-Session-Id that initialize gave.
async function rawSession() {
  const response = await post(initializeBody);
  assert.equal(response.status, 200);
  await response.json();
  const id = response.headers.get('mcp-session-id');
  assert.match(id, /^[0-9a-f]{32}$/);
  return id;
}

test('without the token: 401, and the SDK cannot connect', async () => {
  const { client, ready } = connect({});
  await assert.rejects(ready);
  await client.close();

  const response = await fetch(server.url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                              body: initializeBody });
  assert.equal(response.status, 401);
  assert.match(response.headers.get('www-authenticate'), /^Bearer/);
  const wrong = await post(initializeBody, { Authorization: `Bearer ${token}x` });
  assert.equal(wrong.status, 401);
});

test('with the token: initialize, tools/list, and 42 from execute_code', async () => {
  const { client, transport, ready } = connect();
  await ready;
  assert.equal(client.getServerVersion().name, 'llmsbx');
  assert.match(transport.sessionId, /^[0-9a-f]{32}$/);
  const { tools } = await client.listTools();
  assert.ok(tools.some((t) => t.name === 'execute_code'));

  const result = await client.callTool({ name: 'execute_code', arguments: { code: 'print(6*7)' } });
  assert.equal(result.isError, false);
  assert.equal(result.structuredContent.stdout, '42\n');
  assert.deepEqual(textJson(result), result.structuredContent);

  await assert.rejects(client.callTool({ name: 'execute_code', arguments: { code: ['print(1)'] } }),
                       (error) => error instanceof McpError && error.code === ErrorCode.InvalidParams);
  await client.close();
});

test('concurrent calls, each on its own POST', async () => {
  const { client, ready } = connect();
  await ready;
  const results = await Promise.all(['a', 'b', 'c'].map((s) =>
    client.callTool({ name: 'execute_code', arguments: { code: `print("${s}" * 3)` } })));
  assert.deepEqual(results.map((r) => r.structuredContent.stdout), ['aaa\n', 'bbb\n', 'ccc\n']);
  await client.close();
});

test('sessions belong to their MCP session; DELETE ends both', async () => {
  const first = connect();
  const second = connect();
  await Promise.all([first.ready, second.ready]);

  const created = await first.client.callTool({ name: 'create_session', arguments: {} });
  const id = created.structuredContent.session_id;
  const run = (client, code) => client.callTool({ name: 'run_in_session', arguments: { session_id: id, code } });

  assert.equal(created.structuredContent.interactive, true);
  await run(first.client, 'x = 41\nopen("state", "w").write("mine")');
  assert.equal((await run(first.client, 'print(open("state").read())')).structuredContent.stdout, 'mine\n');
  assert.equal((await run(first.client, 'print(x + 1)')).structuredContent.stdout, '42\n');

  const theirs = await run(second.client, 'print(open("state").read())');
  assert.equal(theirs.isError, true);
  const closing = await second.client.callTool({ name: 'close_session', arguments: { session_id: id } });
  assert.equal(closing.isError, true);

  assert.equal(sandboxes().length, 1);
  await first.transport.terminateSession();
  await waitForSandboxes((n) => n === 0, 'after DELETE');
  await first.client.close();
  await second.client.close();
});

test('plots come back as image content over HTTP too', async () => {
  const { client, ready } = connect();
  await ready;
  const result = await client.callTool({ name: 'execute_code', arguments: {
    code: 'import matplotlib.pyplot as plt\nplt.plot([3, 1, 2])\nplt.savefig("chart.svg")\nplt.close()' } });
  assert.equal(result.isError, false);
  const images = result.content.filter((c) => c.type === 'image');
  assert.equal(images.length, 1);
  assert.equal(images[0].mimeType, 'image/svg+xml');
  assert.match(Buffer.from(images[0].data, 'base64').toString('utf8'), /<svg/);
  assert.deepEqual(result.structuredContent.plots.map((p) => p.format), ['svg']);
  await client.close();
});

test('the HTTP rules: methods, sessions, versions, origins, sizes', async () => {
  const session = await rawSession();
  const ping = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' });

  assert.equal((await fetch(server.url, { headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' } })).status, 405);
  assert.equal((await post(ping)).status, 400, 'no Mcp-Session-Id');
  assert.equal((await post(ping, { 'Mcp-Session-Id': 'f'.repeat(32) })).status, 404);
  assert.equal((await post(ping, { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '1999-01-01' })).status, 400);
  assert.equal((await post(ping, { 'Mcp-Session-Id': session, 'Content-Type': 'text/plain' })).status, 415);
  assert.equal((await post(ping, { 'Mcp-Session-Id': session, Origin: 'http://evil.example' })).status, 403);
  assert.equal((await post(ping, { 'Mcp-Session-Id': session, Origin: 'http://localhost:3000' })).status, 200);
  assert.equal((await post(initializeBody, { 'Mcp-Session-Id': session })).status, 400);

  const large = JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping', params: { pad: 'x'.repeat(maxMessageSize) } });
  assert.equal((await post(large, { 'Mcp-Session-Id': session })).status, 413);

  const notification = await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
                                  { 'Mcp-Session-Id': session });
  assert.equal(notification.status, 202);
  assert.equal(await notification.text(), '');

  const pong = await post(ping, { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-06-18' });
  assert.equal(pong.status, 200);
  assert.equal(pong.headers.get('content-type'), 'application/json');
  assert.deepEqual(await pong.json(), { jsonrpc: '2.0', id: 2, result: {} });

  // 2025-06-18 has no batches.
  const batch = await post(`[${ping}]`, { 'Mcp-Session-Id': session });
  assert.equal((await batch.json()).error.code, ErrorCode.InvalidRequest);

  const deep = await post('['.repeat(10000), { 'Mcp-Session-Id': session });
  assert.equal(deep.status, 400);
  assert.equal((await deep.json()).error.code, ErrorCode.ParseError);

  const deleted = await fetch(server.url, { method: 'DELETE', headers: { Authorization: `Bearer ${token}`, 'Mcp-Session-Id': session } });
  assert.equal(deleted.status, 204);
  assert.equal((await post(ping, { 'Mcp-Session-Id': session })).status, 404);
});

test('the Host header must name this machine (DNS rebinding)', async () => {
  // fetch() sets Host itself; a raw request does not.
  const net = await import('node:net');
  const { port } = new URL(server.url);
  const status = await new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      socket.end(`POST /mcp HTTP/1.1\r\nHost: attacker.example:${port}\r\nAuthorization: Bearer ${token}\r\n` +
                 `Content-Type: application/json\r\nContent-Length: ${initializeBody.length}\r\n\r\n${initializeBody}`);
    });
    let data = '';
    socket.on('data', (chunk) => { data += chunk; });
    socket.on('end', () => resolve(Number(data.split(' ')[1])));
    socket.on('error', reject);
  });
  assert.equal(status, 403);
});

test('a client that leaves during a call does not cancel it, nor break the server', async () => {
  const session = await rawSession();
  const controller = new AbortController();
  const call = post(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call',
                                     params: { name: 'execute_code', arguments: { code: 'import time\ntime.sleep(3)' } } }),
                    { 'Mcp-Session-Id': session });
  for (const accept of ['application/json', 'application/json, text/event-stream']) {
    const leaving = fetch(server.url, {
      method: 'POST', signal: controller.signal,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: accept,
                 'Mcp-Session-Id': session },
      body: JSON.stringify({ jsonrpc: '2.0', id: accept, method: 'tools/call',
                             params: { name: 'execute_code', arguments: { code: 'import time\ntime.sleep(3)' } } }),
    });
    leaving.catch(() => {});
  }
  await waitForSandboxes((n) => n === 3, 'while the calls run');
  controller.abort();
  const pong = await post(JSON.stringify({ jsonrpc: '2.0', id: 10, method: 'ping' }), { 'Mcp-Session-Id': session });
  assert.equal(pong.status, 200);
  // The calls of the clients that left run to their end; their sandboxes go.
  assert.equal((await call).status, 200);
  await waitForSandboxes((n) => n === 0, 'after the calls ended');
});

test('a client that accepts only JSON gets its tool result as JSON', async () => {
  const session = await rawSession();
  const response = await post(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call',
                                               params: { name: 'execute_code', arguments: { code: 'print(7)' } } }),
                              { 'Mcp-Session-Id': session, Accept: 'application/json' });
  assert.equal(response.headers.get('content-type'), 'application/json');
  const reply = await response.json();
  assert.equal(reply.result.structuredContent.stdout, '7\n');
});
