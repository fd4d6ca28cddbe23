// What the API checks share: a sandbox (vhost and Redis database of their own on the throwaway
// broker and Redis that scripts/test starts), the four services started from build/bin on free
// ports, raw HTTP calls, waits with deadlines, and reporting.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const API_DIR = path.join(ROOT, 'api');
export const BUILD_DIR = process.env.OFFERS_BUILD_DIR || path.join(ROOT, 'build');

// Every service process started here, killed when this process ends however it ends.
const children = new Set();
function killChildren() {
  for (const child of children) child.kill('SIGKILL');
}
process.on('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killChildren();
    process.exit(130);
  });
}

function requiredEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this through scripts/test`);
  return v;
}

export function infra() {
  return {
    amqpPort: Number(requiredEnv('OFFERS_TEST_AMQP_PORT')),
    mgmtPort: Number(requiredEnv('OFFERS_TEST_MGMT_PORT')),
    redisPort: Number(requiredEnv('OFFERS_TEST_REDIS_PORT')),
    state: process.env.OFFERS_TEST_STATE || fs.mkdtempSync('/tmp/offers-api-'),
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls check() until it returns a truthy value; throws with what after the deadline.
export async function waitFor(what, check, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await sleep(100);
  }
}

// One HTTP request on its own connection; resolves with status, headers (lower-case names, as
// received) and the body as text.
export function request(baseUrl, method, pathAndQuery, { headers = {}, body } = {}) {
  const url = new URL(pathAndQuery, baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        // A body goes with its Content-Length, as clients send it (not chunked).
        headers: body === undefined ? { ...headers } : { 'content-length': Buffer.byteLength(body), ...headers },
        agent: false,
        timeout: 15000,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const raw = {};
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const name = res.rawHeaders[i].toLowerCase();
            raw[name] = raw[name] === undefined ? res.rawHeaders[i + 1] : `${raw[name]}, ${res.rawHeaders[i + 1]}`;
          }
          resolve({ status: res.statusCode, headers: raw, body: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export async function json(baseUrl, method, p, opts) {
  const r = await request(baseUrl, method, p, opts);
  return { ...r, json: r.body ? JSON.parse(r.body) : undefined };
}

// A minimal Redis client: enough for INCR and FLUSHDB.
export function redisCommand(port, db, ...args) {
  const encode = (a) => `*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(String(x))}\r\n${x}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    const expected = db ? 2 : 1;
    sock.on('connect', () => {
      if (db) sock.write(encode(['SELECT', db]));
      sock.write(encode(args));
    });
    sock.on('data', (d) => {
      data += d.toString();
      const lines = data.split('\r\n').filter((l) => l.length);
      if (lines.length >= expected) {
        sock.end();
        const last = lines[expected - 1];
        if (last[0] === '-') reject(new Error(`redis: ${last}`));
        else resolve(last[0] === ':' ? Number(last.slice(1)) : last.slice(1));
      }
    });
    sock.on('error', reject);
  });
}

export async function management(method, p, body) {
  const { mgmtPort } = infra();
  const r = await request(`http://127.0.0.1:${mgmtPort}`, method, p, {
    headers: {
      authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`,
      'content-type': 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status >= 300 && !(method === 'DELETE' && r.status === 404)) {
    throw new Error(`management ${method} ${p}: ${r.status} ${r.body}`);
  }
  return r.body ? JSON.parse(r.body) : undefined;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

// A vhost and a Redis database of its own; the database number comes from the same counter the
// C++ harness uses, so no two sandboxes of one test run share one.
export class Sandbox {
  constructor(name) {
    this.name = name;
    this.services = new Map();
    this.logs = [];
  }

  async open() {
    const { redisPort, state } = infra();
    const n = await redisCommand(redisPort, 0, 'INCR', 'test:sandboxes');
    this.db = 1 + (n % 4000);
    this.vhost = `api-${this.name}-${n}-${process.pid}`;
    await redisCommand(redisPort, this.db, 'FLUSHDB');
    const vh = encodeURIComponent(this.vhost);
    await management('PUT', `/api/vhosts/${vh}`, {});
    await management('PUT', `/api/permissions/${vh}/guest`, { configure: '.*', write: '.*', read: '.*' });
    this.logDir = path.join(state, 'logs');
    fs.mkdirSync(this.logDir, { recursive: true });
    return this;
  }

  amqpUrl(port = infra().amqpPort) {
    return `amqp://guest:guest@127.0.0.1:${port}/${encodeURIComponent(this.vhost)}`;
  }

  redisUrl(port = infra().redisPort) {
    return `redis://127.0.0.1:${port}/${this.db}`;
  }

  // Starts build/bin/<binary> as `name` on a free port and waits until /healthz answers (and
  // /readyz says 200 unless ready is false).
  async start(binary, { name = binary, env = {}, ready = true } = {}) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const feed = this.services.get('special-offers');
    const logPath = path.join(this.logDir, `${this.vhost}-${name}.log`);
    const out = fs.openSync(logPath, 'a');
    const child = spawn(path.join(BUILD_DIR, 'bin', binary), [], {
      env: {
        PATH: process.env.PATH,
        AMQP_URL: this.amqpUrl(),
        REDIS_URL: this.redisUrl(),
        HTTP_PORT: String(port),
        RECONNECT_MIN: '100ms',
        RECONNECT_MAX: '1s',
        // The feed a subscriber catches up from, never the default port.
        FEED_URL: feed ? feed.base : 'http://127.0.0.1:1',
        ...env,
      },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    const svc = { name, binary, port, base, child, logPath, exited: null };
    children.add(child);
    child.on('exit', (code, signal) => {
      svc.exited = { code, signal };
      children.delete(child);
    });
    this.services.set(name, svc);
    await waitFor(`${name} to answer /healthz`, async () => {
      if (svc.exited) throw new Error(`${name} exited (${JSON.stringify(svc.exited)}):\n${this.log(name)}`);
      return (await request(base, 'GET', '/healthz')).status === 200;
    });
    if (ready) {
      await waitFor(`${name} to be ready`, async () => (await request(base, 'GET', '/readyz')).status === 200);
    }
    return svc;
  }

  url(name) {
    return this.services.get(name).base;
  }

  log(name) {
    try {
      return fs.readFileSync(this.services.get(name).logPath, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '';
    }
  }

  // SIGTERM, then SIGKILL after 10 s.
  async stop(name) {
    const svc = this.services.get(name);
    if (!svc) return;
    this.services.delete(name);
    if (svc.exited) return;
    const gone = new Promise((r) => svc.child.once('exit', r));
    svc.child.kill('SIGTERM');
    const timer = setTimeout(() => svc.child.kill('SIGKILL'), 10000);
    await gone;
    clearTimeout(timer);
  }

  async close() {
    for (const name of [...this.services.keys()]) await this.stop(name);
    if (this.vhost) await management('DELETE', `/api/vhosts/${encodeURIComponent(this.vhost)}`).catch(() => {});
    if (this.db) await redisCommand(infra().redisPort, this.db, 'FLUSHDB').catch(() => {});
  }
}

// Runs body(sandbox) and always closes the sandbox; a failure prints its message and sets a
// non-zero exit code.
export async function runWithSandbox(name, body) {
  const sandbox = new Sandbox(name);
  let ok = false;
  try {
    await sandbox.open();
    await body(sandbox);
    ok = true;
  } catch (e) {
    console.error(`FAILED: ${e.stack || e.message}`);
    for (const svc of sandbox.services.values()) {
      console.error(`--- last lines of ${svc.name}'s log (${svc.logPath}) ---\n${sandbox.log(svc.name)}`);
    }
  } finally {
    await sandbox.close().catch((e) => console.error(`cleanup: ${e.message}`));
  }
  process.exitCode = ok ? 0 : 1;
}

// Collects mismatches instead of stopping at the first, so one run shows them all.
export class Report {
  constructor() {
    this.failures = [];
    this.checks = 0;
  }

  ok(cond, message) {
    this.checks += 1;
    if (!cond) this.failures.push(message);
    return cond;
  }

  fail(message) {
    this.checks += 1;
    this.failures.push(message);
  }

  // The mismatches found so far, for a failure that stops a check half-way.
  summary() {
    return this.failures.length ? `\nmismatches found before that:\n  - ${this.failures.join('\n  - ')}` : '';
  }

  finish(what) {
    if (this.failures.length) {
      const e = new Error(`${this.failures.length} mismatch(es) in ${what}:\n  - ${this.failures.join('\n  - ')}`);
      e.listsMismatches = true;
      throw e;
    }
    console.log(`${what}: ${this.checks} checks passed`);
  }
}
