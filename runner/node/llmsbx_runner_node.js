// llmsbx_runner_node.js: the Node.js kernel of llmsbx-runner: interactive
// cells that share one vm context, like the Node REPL's.
//
// llmsbx-runner starts it (`node llmsbx_runner_node.js 3`, the runner's
// socket on descriptor 3, its stdout and stderr on pipes the runner keeps)
// at the first interactive JavaScript cell, and speaks the frames of
// runner/llmsbx-runner-protocol.h with it; the numbers below mirror that
// header. Node.js cannot fork and cannot take descriptors, so this process
// is the kernel: a cell's output is whatever it writes on its own stdout and
// stderr between the cell's start and its EXITED frame (writes to pipes are
// synchronous on Linux, so all of it is in the pipe before that frame).
//
// A cell is a script run in the kernel's context: `let`, `const`, functions
// and globals persist, as does the working directory. The completion value
// of a cell is shown with util.inspect unless it is undefined; a promise is
// awaited first. An exception is shown as Node shows an uncaught one, and
// the cell's exit code is 1. At a timeout the runner sends SIGINT, which
// interrupts the cell's synchronous code (breakOnSigint): exit code 130, the
// state kept; a cell that does not come back is killed with the kernel.
// process.exit() ends the kernel, and the state.
'use strict';

const fs = require('fs');
const net = require('net');
const path = require('path');
const util = require('util');
const vm = require('vm');
const { createRequire } = require('module');

const MAGIC = 0x4C585246;
const HEADER = 16;
const FRAME_MAX = 64 * 1024 * 1024;
const PROTOCOL_VERSION = 1;

const ADAPTER_HELLO = 0x40;
const ADAPTER_RUN = 0x41;
const ADAPTER_STARTED = 0x42;
const ADAPTER_EXITED = 0x43;

const F_PID = 0x0004;
const F_VERSION = 0x0006;
const F_ARGV = 0x0100;
const F_ENV = 0x0101;
const F_CWD = 0x0102;
const F_STATEFUL = 0x010A;
const F_EXIT_CODE = 0x0200;
const F_SIGNAL = 0x0201;
const F_FLAGS = 0x0203;

const STATE_KEPT = 1 << 6;
const STATE_FRESH = 1 << 8;

function fieldInt(tag, value) {
  const b = Buffer.alloc(6 + 8);
  b.writeUInt16BE(tag, 0);
  b.writeUInt32BE(8, 2);
  b.writeBigUInt64BE(BigInt(value), 6);
  return b;
}

function frame(kind, id, payload) {
  const head = Buffer.alloc(HEADER);
  head.writeUInt32BE(MAGIC, 0);
  head.writeUInt8(kind, 4);
  head.writeUInt32BE(id, 8);
  head.writeUInt32BE(payload.length, 12);
  return Buffer.concat([head, payload]);
}

function parseFields(payload) {
  const fields = [];
  let offset = 0;
  while (offset < payload.length) {
    if (payload.length - offset < 6)
      throw new Error('a field header runs past the frame');
    const tag = payload.readUInt16BE(offset);
    const length = payload.readUInt32BE(offset + 2);
    offset += 6;
    if (payload.length - offset < length)
      throw new Error('a field runs past the frame');
    fields.push([tag, payload.subarray(offset, offset + length)]);
    offset += length;
  }
  return fields;
}

const socket = new net.Socket({ fd: 3, readable: true, writable: true });
let pending = Buffer.alloc(0);
let context = null;
let busy = Promise.resolve();

// SIGINT interrupts a running cell (breakOnSigint); between cells it is ignored.
process.on('SIGINT', () => {});

function send(kind, id, payload) {
  socket.write(frame(kind, id, payload));
}

function makeContext(cwd) {
  const requireFrom = createRequire(path.join(cwd || process.cwd(), '[llmsbx-cell]'));
  const sandbox = {
    console, process, Buffer, require: requireFrom, module: { exports: {} },
    setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate,
    queueMicrotask, structuredClone, URL, URLSearchParams, TextEncoder, TextDecoder,
    AbortController, AbortSignal, EventTarget, Event, atob, btoa,
  };
  if (typeof fetch === 'function')
    sandbox.fetch = fetch;
  sandbox.global = sandbox;
  sandbox.exports = sandbox.module.exports;
  return vm.createContext(sandbox);
}

function showError(error) {
  // As Node prints an uncaught exception: the stack, or what was thrown;
  // the frames of the kernel itself (vm and this file) are cut.
  let text;
  if (error !== null && typeof error === 'object' && typeof error.stack === 'string') {
    const lines = error.stack.split('\n');
    const cut = lines.findIndex((line) => /^\s+at /.test(line) &&
                                         (line.includes('node:vm:') || line.includes(__filename)));
    text = (cut >= 0 ? lines.slice(0, cut) : lines).join('\n');
  } else {
    text = 'Uncaught ' + util.inspect(error);
  }
  process.stderr.write(text + '\n');
}

async function runCell(id, fields) {
  const argv = [];
  const env = {};
  let cwd = null;
  for (const [tag, value] of fields) {
    if (tag === F_ARGV) argv.push(value.toString());
    else if (tag === F_ENV) {
      const entry = value.toString();
      const eq = entry.indexOf('=');
      env[entry.slice(0, eq)] = entry.slice(eq + 1);
    } else if (tag === F_CWD) cwd = value.toString();
    else if (tag !== F_STATEFUL) throw new Error('unknown field ' + tag);
  }
  if (argv.length === 0)
    throw new Error('a cell needs its file');

  let flags = STATE_KEPT;
  if (context === null) {
    // The first cell sets the scene: directory and environment persist.
    if (cwd) process.chdir(cwd);
    for (const name of Object.keys(process.env)) delete process.env[name];
    Object.assign(process.env, env);
    context = makeContext(cwd);
    flags |= STATE_FRESH;
  }
  send(ADAPTER_STARTED, id, fieldInt(F_PID, process.pid));

  let code = 0;
  try {
    const file = argv[0];
    const source = fs.readFileSync(file, 'utf8');
    const script = new vm.Script(source, { filename: file });
    let value = script.runInContext(context, { breakOnSigint: true, displayErrors: false });
    if (value !== null && typeof value === 'object' && typeof value.then === 'function')
      value = await value;
    if (value !== undefined)
      process.stdout.write(util.inspect(value, { colors: false }) + '\n');
  } catch (error) {
    if (error && error.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') {
      process.stderr.write('Interrupted: ' + error.message + '\n');
      code = 130;
    } else {
      showError(error);
      code = 1;
    }
  }
  send(ADAPTER_EXITED, id, Buffer.concat([fieldInt(F_EXIT_CODE, code), fieldInt(F_SIGNAL, 0),
                                          fieldInt(F_FLAGS, flags)]));
}

socket.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= HEADER) {
    const magic = pending.readUInt32BE(0);
    const kind = pending.readUInt8(4);
    const id = pending.readUInt32BE(8);
    const length = pending.readUInt32BE(12);
    if (magic !== MAGIC || length > FRAME_MAX) {
      process.stderr.write('llmsbx_runner_node: malformed frame from the runner\n');
      process.exit(3);
    }
    if (pending.length < HEADER + length)
      break;
    const payload = pending.subarray(HEADER, HEADER + length);
    pending = pending.subarray(HEADER + length);
    if (kind !== ADAPTER_RUN) {
      process.stderr.write('llmsbx_runner_node: unexpected frame ' + kind + '\n');
      process.exit(3);
    }
    const fields = parseFields(payload);
    busy = busy.then(() => runCell(id, fields));
  }
});
socket.on('end', () => process.exit(0));
socket.on('error', () => process.exit(0));

send(ADAPTER_HELLO, 0, Buffer.concat([fieldInt(F_VERSION, PROTOCOL_VERSION), fieldInt(F_PID, process.pid)]));
