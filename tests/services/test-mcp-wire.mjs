// test-mcp-wire.mjs: llmsbx mcp's stdio transport byte by byte, with input no client sends.
//
// Raw newline-delimited JSON-RPC written to the server's stdin: garbage,
// nesting, lines longer than a message may be, batches per protocol version.
// Every line it writes to stdout must be one JSON-RPC message, also with
// every log on (G_MESSAGES_DEBUG=all, --verbose), and it keeps answering.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cli, serverEnv, assertNothingLeft } from './mcp-test.mjs';

const maxMessageSize = 4096;
const running = new Set();

class WireServer {
  constructor(args = []) {
    this.child = spawn(cli, ['mcp', '--verbose', '--max-message-size', String(maxMessageSize), ...args],
                       { env: serverEnv({ G_MESSAGES_DEBUG: 'all' }), stdio: ['pipe', 'pipe', 'pipe'] });
    this.lines = [];
    this.waiting = [];
    this.stderr = '';
    let buffer = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        this.lines.push(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        this.wake();
      }
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk) => { this.stderr += chunk; });
    running.add(this.child);
    this.child.once('exit', () => running.delete(this.child));
  }

  wake() {
    for (const waiter of this.waiting.splice(0))
      waiter();
  }

  write(text) {
    this.child.stdin.write(text);
  }

  send(message) {
    this.write(JSON.stringify(message) + '\n');
  }

  // The next line of stdout, which must be one JSON-RPC message.
  async next() {
    while (this.lines.length === 0)
      await new Promise((resolve) => this.waiting.push(resolve));
    const line = this.lines.shift();
    let message;
    assert.doesNotThrow(() => { message = JSON.parse(line); }, `stdout carries JSON only: ${line}`);
    for (const one of Array.isArray(message) ? message : [message])
      assert.equal(one.jsonrpc, '2.0');
    return message;
  }

  async request(id, method, params) {
    this.send({ jsonrpc: '2.0', id, method, params });
    return this.next();
  }

  async initialize(version) {
    const reply = await this.request(0, 'initialize',
                                     { protocolVersion: version, capabilities: {}, clientInfo: { name: 'wire', version: '1' } });
    this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return reply;
  }

  async end() {
    const exited = once(this.child, 'exit');
    this.child.stdin.end();
    const [code] = await exited;
    assert.equal(code, 0);
    assert.equal(this.lines.length, 0, `nothing unanswered was left on stdout: ${this.lines}`);
  }
}

// A test that failed midway leaves its server: it is stopped (and removes
// its sandboxes) before the check.
after(async () => {
  for (const child of running) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
  assertNothingLeft();
});

test('garbage, nesting and oversized lines get errors, and the server goes on', async () => {
  const server = new WireServer();

  server.write('this is not json\n');
  let reply = await server.next();
  assert.equal(reply.id, null);
  assert.equal(reply.error.code, -32700);

  server.write('['.repeat(1000) + '\n');
  reply = await server.next();
  assert.equal(reply.error.code, -32700);
  assert.match(reply.error.message, /nest deeper/);

  // Longer than a message may be, in one write and then in pieces.
  server.write('"' + 'x'.repeat(maxMessageSize * 4) + '"\n');
  reply = await server.next();
  assert.equal(reply.error.code, -32600);
  assert.match(reply.error.message, /4096 bytes/);
  for (let i = 0; i < 8; i++)
    server.write('y'.repeat(maxMessageSize));
  server.write('\n');
  reply = await server.next();
  assert.equal(reply.error.code, -32600);

  server.write('\n   \r\n');
  server.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\r\n');
  assert.deepEqual(await server.next(), { jsonrpc: '2.0', id: 1, result: {} });

  server.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
  reply = await server.next();
  assert.equal(reply.error.code, -32600, 'tools/list before initialize');

  assert.equal((await server.initialize('2025-06-18')).result.protocolVersion, '2025-06-18');
  assert.equal((await server.request(3, 'no/such/method')).error.code, -32601);
  assert.equal((await server.request(4, 'tools/call', { name: 'execute_code', arguments: { code: null } })).error.code, -32602);
  assert.equal((await server.request(5, 'tools/call', [])).error.code, -32602);
  assert.equal((await server.request(6, 'initialize', { protocolVersion: '2025-06-18' })).error.code, -32600);

  server.write('[{"jsonrpc":"2.0","id":7,"method":"ping"}]\n');
  reply = await server.next();
  assert.equal(reply.error.code, -32600, 'no batches in 2025-06-18');

  server.write('{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"execute_code","arguments":{"code":"print(\\"a\\u0000b\\")"}}}\n');
  reply = await server.next();
  assert.equal(reply.error.code, -32700, 'NUL in a string');

  // A real run, with every log on: the lines go to stderr.
  reply = await server.request(9, 'tools/call', { name: 'execute_code', arguments: { code: 'print(6*7)' } });
  assert.equal(reply.result.structuredContent.stdout, '42\n');
  await server.end();
  assert.match(server.stderr, /creating sandbox/, 'the session logged, to stderr');
});

test('an older client gets its version, and batches where that version has them', async () => {
  const server = new WireServer();
  const reply = await server.initialize('2025-03-26');
  assert.equal(reply.result.protocolVersion, '2025-03-26');

  server.write(JSON.stringify([
    { jsonrpc: '2.0', id: 'a', method: 'ping' },
    { jsonrpc: '2.0', method: 'notifications/progress', params: {} },
    { jsonrpc: '2.0', id: 'b', method: 'tools/call', params: { name: 'list_languages', arguments: {} } },
  ]) + '\n');
  const replies = await server.next();
  assert.ok(Array.isArray(replies));
  assert.deepEqual(replies.map((r) => r.id), ['a', 'b']);
  assert.equal(replies[1].result.structuredContent, undefined, '2025-03-26 has no structuredContent');
  assert.ok(JSON.parse(replies[1].result.content[0].text).languages.includes('python'));
  await server.end();
});

test('requests in progress are bounded, and an id is in use once at a time', async () => {
  // One sandbox: the first call holds it, the others wait for it.
  const server = new WireServer(['--max-sandboxes', '1']);
  await server.initialize('2025-06-18');
  const call = (id, code) => server.send({ jsonrpc: '2.0', id, method: 'tools/call',
                                           params: { name: 'execute_code', arguments: { code, timeout: 120 } } });
  call(1, 'import time\ntime.sleep(100)');
  for (let id = 2; id <= 16; id++)
    call(id, 'print(1)');

  call(1, 'print("again")');
  let reply = await server.next();
  assert.equal(reply.id, 1);
  assert.equal(reply.error.code, -32600, 'the id of a request in progress');

  call(17, 'print(1)');
  reply = await server.next();
  assert.equal(reply.id, 17);
  assert.equal(reply.error.code, -32000, 'a 17th request in progress');

  // The end of the input cancels all sixteen, unanswered.
  await server.end();
});

test('a client asking for an unknown version gets the latest', async () => {
  const server = new WireServer();
  const reply = await server.initialize('2099-01-01');
  assert.equal(reply.result.protocolVersion, '2025-06-18');
  await server.end();
});
