// mcp-test.mjs: what the MCP tests share: the server under test, its
// sandboxes' label, and the check that none of them outlives a test.
//
// $LLMSBX_CLI names the llmsbx program (tests/services/meson.build). Every
// server gets runtime configs that label its sandboxes with this run's id,
// so the sandboxes it made, and only those, are found with the docker CLI
// while other suites run alongside.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import assert from 'node:assert/strict';

export const cli = process.env.LLMSBX_CLI;
if (!cli)
  throw new Error('LLMSBX_CLI is not set: run these tests with meson test');

export const runId = randomUUID();
const label = `io.llmsbx.test-run=${runId}`;

// The environment of a server under test: this process's (the build tree's
// plugins and images) with the run's label on every sandbox.
export function serverEnv(extra = {}) {
  return {
    ...process.env,
    LLMSBX_MCP_RUNTIME_CONFIGS: JSON.stringify({ labels: { 'io.llmsbx.test-run': runId } }),
    ...extra,
  };
}

export function sandboxes() {
  const out = execFileSync('docker', ['ps', '-aq', '--no-trunc', '--filter', `label=${label}`],
                           { encoding: 'utf8' });
  return out.split('\n').filter((id) => id !== '');
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Waits, within a bound, for the count of this run's sandboxes to satisfy @pred.
export async function waitForSandboxes(pred, what, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  let ids = sandboxes();
  while (!pred(ids.length)) {
    if (Date.now() > deadline)
      assert.fail(`${what}: ${ids.length} sandbox(es) of this run exist after ${seconds} s`);
    await sleep(100);
    ids = sandboxes();
  }
  return ids;
}

// No sandbox of this run exists; any that does is removed, and fails the test.
export function assertNothingLeft() {
  const ids = sandboxes();
  if (ids.length > 0) {
    execFileSync('docker', ['rm', '-f', ...ids]);
    assert.fail(`${ids.length} sandbox(es) survived: ${ids.join(' ')}`);
  }
}

// The parsed JSON of a tool result's text content (the spec's copy of
// structuredContent for older clients).
export function textJson(result) {
  assert.equal(result.content[0].type, 'text');
  return JSON.parse(result.content[0].text);
}

// Starts `llmsbx mcp --http 0 ARGS` (a port alone: loopback) and reads the URL it prints.
export async function startHttpServer(args = [], env = {}) {
  const child = spawn(cli, ['mcp', '--http', '0', ...args],
                      { env: serverEnv(env), stdio: ['ignore', 'pipe', 'inherit'] });
  // Should this process end first, the server still removes its sandboxes.
  const stopOnExit = () => child.kill('SIGTERM');
  process.once('exit', stopOnExit);
  child.once('exit', () => process.removeListener('exit', stopOnExit));
  let output = '';
  child.stdout.setEncoding('utf8');
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('\n'))
        resolve(output.split('\n')[0]);
    });
    child.once('exit', (code) => reject(new Error(`llmsbx mcp --http exited with ${code} before listening`)));
  });
  assert.match(url, /^http:\/\/127\.0\.0\.1:[0-9]+\/mcp$/);
  return {
    url,
    child,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code, signal] = await exited;
      assert.equal(signal, null, 'the server is not killed by its signal: it stops');
      assert.equal(code, 0);
    },
  };
}
