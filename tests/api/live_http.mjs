// Drives every route of the four services, successes and every error case of the contract, and
// checks each reply's status, headers and body against the service's OpenAPI document. Two
// sandboxes: one with everything up, one whose services cannot reach Redis (the 503s).
// Fails when a reply differs from its document, or when a documented status was never seen and
// is not one this test explains.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { OpenApiChecker } from './checker.mjs';
import { API_DIR, Report, Sandbox, freePort, request, runWithSandbox, waitFor } from './support.mjs';

const report = new Report();
// Whether special-offers keeps Idempotency-Keys (the 422 can only be seen then).
let idempotencyKeys = false;
const checkers = {
  'special-offers': await OpenApiChecker.load('special-offers.openapi.yaml'),
  loyalty: await OpenApiChecker.load('loyalty.openapi.yaml'),
  notifications: await OpenApiChecker.load('notifications.openapi.yaml'),
  statistics: await OpenApiChecker.load('statistics.openapi.yaml'),
};

// Statuses this test cannot bring about, and why.
const EXPLAINED = [
  [/ 500$/, 'an unexpected failure; no input brings it about'],
  [/ 409$/, 'a second request with an Idempotency-Key while the first is in flight: a race'],
];

// Calls a route and checks the reply. params fill the path template; opts as for request().
async function call(sb, service, method, template, { params = {}, query = '', expect, ...opts } = {}) {
  const p = template.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(params[k]));
  const reply = await request(sb.url(service), method, p + query, opts);
  const label = `${service} ${method} ${p}${query}`;
  for (const problem of checkers[service].check(method, template, reply)) report.fail(problem);
  if (expect !== undefined) {
    report.ok(reply.status === expect, `${label}: status ${reply.status}, expected ${expect}: ${reply.body.slice(0, 200)}`);
  }
  const sentId = opts.headers && opts.headers['X-Request-Id'];
  if (sentId) {
    report.ok(reply.headers['x-request-id'] === sentId, `${label}: X-Request-Id ${reply.headers['x-request-id']}, sent ${sentId}`);
  }
  // The request schema accepts exactly the bodies the service takes (among those tried here; an
  // Idempotency-Key can refuse a good body, so those calls are left out).
  const keyed = opts.headers && opts.headers['Idempotency-Key'] !== undefined;
  if (opts.body !== undefined && !keyed && reply.status !== 413 && reply.status !== 503 && reply.status !== 404) {
    const accepted = checkers[service].acceptsRequestBody(method, template, opts.body);
    if (accepted !== undefined) {
      const taken = reply.status >= 200 && reply.status < 300;
      const badId = reply.body.includes(' id must be a positive integer');
      if (!badId) {
        report.ok(accepted === taken, `${label}: the document's request schema ${accepted ? 'accepts' : 'refuses'} ${opts.body.slice(0, 80)}, the service answered ${reply.status}`);
      }
    }
  }
  // The parameter schemas refuse what the service refuses and accept what it takes.
  const values = { ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])), ...Object.fromEntries(new URLSearchParams(query)) };
  const paramsOk = checkers[service].acceptsParameters(method, template, values);
  if (reply.status >= 200 && reply.status < 300) {
    report.ok(paramsOk, `${label}: taken by the service, refused by the document's parameter schemas`);
  } else if (!paramsOk) {
    report.ok(reply.status === 400, `${label}: the document's parameter schemas refuse it, the service answered ${reply.status}`);
  }
  let json;
  try {
    json = reply.body && reply.headers['content-type'] === 'application/json' ? JSON.parse(reply.body) : undefined;
  } catch {
    json = undefined;
  }
  return { ...reply, json };
}

const body = (o) => JSON.stringify(o);
const BIG = JSON.stringify({ description: 'x'.repeat(65 * 1024) });

// special-offers: the bad inputs of the contract (each a 400 that changes nothing).
const BAD_OFFERS = [
  '',
  'not json',
  '[1,2]',
  '"a string"',
  body({}),
  body({ description: 5 }),
  body({ description: null }),
  body({ description: '' }),
  body({ description: '   ' }),
  body({ description: 'x'.repeat(1001) }),
  body({ description: 'ok', id: 'seven' }),
  body({ description: 'ok', id: 1.5 }),
];
const BAD_USERS = [
  '',
  'not json',
  '[]',
  body({}),
  body({ name: 7 }),
  body({ name: '' }),
  body({ name: '  ' }),
  body({ name: 'n'.repeat(201) }),
  body({ name: 'Ann', settings: 'coffee' }),
  body({ name: 'Ann', settings: { interests: 'coffee' } }),
  body({ name: 'Ann', settings: { interests: [''] } }),
  body({ name: 'Ann', settings: { interests: [3] } }),
  body({ name: 'Ann', settings: { interests: ['i'.repeat(101)] } }),
  body({ name: 'Ann', settings: { interests: Array(51).fill('tea') } }),
];

async function commonRoutes(sb, service, { ready }) {
  await call(sb, service, 'GET', '/healthz', { expect: 200 });
  await call(sb, service, 'GET', '/healthz', { expect: 200, headers: { 'X-Request-Id': `health-${service}` } });
  await call(sb, service, 'GET', '/readyz', { expect: ready ? 200 : 503 });
  await call(sb, service, 'GET', '/metrics', { expect: 200 });
  const doc = await call(sb, service, 'GET', '/openapi.yaml', { expect: 200 });
  const file = fs.readFileSync(path.join(API_DIR, `${service}.openapi.yaml`), 'utf8');
  report.ok(doc.body === file, `${service} GET /openapi.yaml: not the same as api/${service}.openapi.yaml`);
}

async function specialOffers(sb) {
  const s = 'special-offers';
  const a = await call(sb, s, 'POST', '/offers', { body: body({ description: 'Two coffees for one' }), headers: { 'X-Request-Id': 'api-live-1' }, expect: 201 });
  const b = await call(sb, s, 'POST', '/offers', { body: body({ description: 'Half-price tea', id: 99 }), expect: 201 });
  report.ok(a.json?.description === 'Two coffees for one' && a.headers.location === `/offers/${a.json.id}`, `POST /offers: ${a.body} ${a.headers.location}`);
  for (const bad of BAD_OFFERS) await call(sb, s, 'POST', '/offers', { body: bad, expect: 400 });
  await call(sb, s, 'POST', '/offers', { body: BIG, expect: 413 });
  await call(sb, s, 'GET', '/offers', { expect: 200 });
  await call(sb, s, 'GET', '/offers/{id}', { params: { id: a.json.id }, expect: 200 });
  for (const id of ['abc', '0', '-1', '1.5']) await call(sb, s, 'GET', '/offers/{id}', { params: { id }, expect: 400 });
  await call(sb, s, 'GET', '/offers/{id}', { params: { id: 999999 }, expect: 404 });
  await call(sb, s, 'PUT', '/offers/{id}', { params: { id: b.json.id }, body: body({ description: 'Free tea with any cake' }), headers: { 'X-Request-Id': 'api-live-2' }, expect: 200 });
  for (const bad of BAD_OFFERS) await call(sb, s, 'PUT', '/offers/{id}', { params: { id: b.json.id }, body: bad, expect: 400 });
  await call(sb, s, 'PUT', '/offers/{id}', { params: { id: 'abc' }, body: body({ description: 'x' }), expect: 400 });
  await call(sb, s, 'PUT', '/offers/{id}', { params: { id: 999999 }, body: body({ description: 'x' }), expect: 404 });
  await call(sb, s, 'PUT', '/offers/{id}', { params: { id: b.json.id }, body: BIG, expect: 413 });
  await call(sb, s, 'DELETE', '/offers/{id}', { params: { id: b.json.id }, expect: 204 });
  await call(sb, s, 'DELETE', '/offers/{id}', { params: { id: b.json.id }, expect: 404 });
  await call(sb, s, 'DELETE', '/offers/{id}', { params: { id: 'x1' }, expect: 400 });

  // Idempotency-Key: once the service keeps keys, a repeat is replayed and a reuse is a 422; a
  // service without them answers as without the header. Either way every reply is checked.
  const key = `api-live-${Date.now()}`;
  const first = await call(sb, s, 'POST', '/offers', { body: body({ description: 'Keyed offer' }), headers: { 'Idempotency-Key': key } });
  const again = await call(sb, s, 'POST', '/offers', { body: body({ description: 'Keyed offer' }), headers: { 'Idempotency-Key': key } });
  if (again.headers['idempotent-replayed'] !== undefined) {
    idempotencyKeys = true;
    report.ok(again.status === first.status && again.body === first.body, `Idempotency-Key: the replay differs from the first reply`);
    await call(sb, s, 'POST', '/offers', { body: body({ description: 'Another body' }), headers: { 'Idempotency-Key': key }, expect: 422 });
    await call(sb, s, 'PUT', '/offers/{id}', { params: { id: first.json.id }, body: body({ description: 'Keyed offer' }), headers: { 'Idempotency-Key': key }, expect: 422 });
    await call(sb, s, 'DELETE', '/offers/{id}', { params: { id: first.json.id }, headers: { 'Idempotency-Key': key }, expect: 422 });
    await call(sb, s, 'POST', '/offers', { body: body({ description: 'x' }), headers: { 'Idempotency-Key': '' }, expect: 400 });
    const put = { params: { id: first.json.id }, body: body({ description: 'Keyed offer, changed' }), headers: { 'Idempotency-Key': `${key}-put` }, expect: 200 };
    await call(sb, s, 'PUT', '/offers/{id}', put);
    await call(sb, s, 'PUT', '/offers/{id}', put);
    const del = { params: { id: first.json.id }, headers: { 'Idempotency-Key': `${key}-del` }, expect: 204 };
    await call(sb, s, 'DELETE', '/offers/{id}', del);
    await call(sb, s, 'DELETE', '/offers/{id}', del);
  } else {
    report.ok(first.status === 201 && again.status === 201, `without Idempotency-Key support both keyed POSTs are 201s`);
  }

  // The feed: its page limit is 3 here, so the first page has a next one.
  await call(sb, s, 'GET', '/events', { expect: 200 });
  const page = await call(sb, s, 'GET', '/events', { query: '?start=1&end=100', expect: 200 });
  report.ok(Array.isArray(page.json) && page.json.length === 3 && page.json[0].sequenceNumber === 1, `GET /events?start=1&end=100 with a page limit of 3: ${page.body.slice(0, 200)}`);
  await call(sb, s, 'GET', '/events', { query: '?start=4', expect: 200 });
  await call(sb, s, 'GET', '/events', { query: '?start=1000&end=1000', expect: 200 });
  for (const q of ['?start=-1', '?end=-1', '?start=5&end=2', '?start=abc', '?end=x', '?start=1.5']) {
    await call(sb, s, 'GET', '/events', { query: q, expect: 400 });
  }
  await commonRoutes(sb, s, { ready: true });
  return a.json;
}

async function loyalty(sb, offer) {
  const s = 'loyalty';
  const ann = await call(sb, s, 'POST', '/users', { body: body({ name: 'Ann', settings: { interests: ['COFFEE'] } }), headers: { 'X-Request-Id': 'api-live-user' }, expect: 201 });
  await call(sb, s, 'POST', '/users', { body: body({ name: 'Bob' }), expect: 201 });
  await call(sb, s, 'POST', '/users', { body: body({ name: 'Cy', settings: {}, extra: true }), expect: 201 });
  for (const bad of BAD_USERS) await call(sb, s, 'POST', '/users', { body: bad, expect: 400 });
  await call(sb, s, 'POST', '/users', { body: BIG, expect: 413 });
  const id = ann.json.id;
  await call(sb, s, 'GET', '/users/{id}', { params: { id }, expect: 200 });
  for (const bad of ['abc', '0', '-2']) await call(sb, s, 'GET', '/users/{id}', { params: { id: bad }, expect: 400 });
  await call(sb, s, 'GET', '/users/{id}', { params: { id: 999999 }, expect: 404 });
  await call(sb, s, 'PUT', '/users/{id}', { params: { id }, body: body({ name: 'Ann', settings: { interests: ['coffee', 'cake'] } }), expect: 200 });
  for (const bad of BAD_USERS) await call(sb, s, 'PUT', '/users/{id}', { params: { id }, body: bad, expect: 400 });
  await call(sb, s, 'PUT', '/users/{id}', { params: { id: 'abc' }, body: body({ name: 'Ann' }), expect: 400 });
  await call(sb, s, 'PUT', '/users/{id}', { params: { id: 999999 }, body: body({ name: 'Ann' }), expect: 404 });
  await call(sb, s, 'PUT', '/users/{id}', { params: { id }, body: BIG, expect: 413 });
  // The offer reaches loyalty through the broker.
  await waitFor('loyalty to have the offer', async () => {
    const r = await request(sb.url(s), 'GET', `/users/${id}/offers`);
    return r.status === 200 && JSON.parse(r.body).some((o) => o.id === offer.id);
  });
  await call(sb, s, 'GET', '/users/{id}/offers', { params: { id }, expect: 200 });
  await call(sb, s, 'GET', '/users/{id}/offers', { params: { id: 'abc' }, expect: 400 });
  await call(sb, s, 'GET', '/users/{id}/offers', { params: { id: 999999 }, expect: 404 });
  await call(sb, s, 'GET', '/offers', { expect: 200 });
  await commonRoutes(sb, s, { ready: true });
}

async function notifications(sb) {
  const s = 'notifications';
  await waitFor('notifications to have some', async () => JSON.parse((await request(sb.url(s), 'GET', '/notifications')).body).length > 0);
  await call(sb, s, 'GET', '/notifications', { expect: 200 });
  await call(sb, s, 'GET', '/notifications', { query: '?limit=1', expect: 200 });
  await call(sb, s, 'GET', '/notifications', { query: '?limit=10000', expect: 200 });
  for (const q of ['?limit=0', '?limit=10001', '?limit=abc', '?limit=-1', '?limit=']) {
    await call(sb, s, 'GET', '/notifications', { query: q, expect: 400 });
  }
  await commonRoutes(sb, s, { ready: true });
}

async function statistics(sb) {
  const s = 'statistics';
  await waitFor('statistics to count the events', async () => JSON.parse((await request(sb.url(s), 'GET', '/stats')).body).lastSequenceNumber > 0);
  await call(sb, s, 'GET', '/stats', { expect: 200 });
  await commonRoutes(sb, s, { ready: true });
}

// Services that cannot reach Redis: every route that needs it answers 503.
async function withoutRedis(sb) {
  const nowhere = { REDIS_URL: `redis://127.0.0.1:${await freePort()}/0` };
  for (const name of ['special-offers', 'loyalty', 'notifications', 'statistics']) {
    await sb.start(name, { env: nowhere, ready: false });
  }
  const so = 'special-offers';
  await call(sb, so, 'POST', '/offers', { body: body({ description: 'x' }), expect: 503 });
  await call(sb, so, 'GET', '/offers', { expect: 503 });
  await call(sb, so, 'GET', '/offers/{id}', { params: { id: 1 }, expect: 503 });
  await call(sb, so, 'PUT', '/offers/{id}', { params: { id: 1 }, body: body({ description: 'x' }), expect: 503 });
  await call(sb, so, 'DELETE', '/offers/{id}', { params: { id: 1 }, expect: 503 });
  await call(sb, so, 'GET', '/events', { expect: 503 });
  await call(sb, so, 'GET', '/readyz', { expect: 503 });
  const lo = 'loyalty';
  await call(sb, lo, 'POST', '/users', { body: body({ name: 'Ann' }), expect: 503 });
  await call(sb, lo, 'GET', '/users/{id}', { params: { id: 1 }, expect: 503 });
  await call(sb, lo, 'PUT', '/users/{id}', { params: { id: 1 }, body: body({ name: 'Ann' }), expect: 503 });
  await call(sb, lo, 'GET', '/users/{id}/offers', { params: { id: 1 }, expect: 503 });
  await call(sb, lo, 'GET', '/offers', { expect: 503 });
  await call(sb, 'notifications', 'GET', '/notifications', { expect: 503 });
  await call(sb, 'statistics', 'GET', '/stats', { expect: 503 });
  for (const name of ['loyalty', 'notifications', 'statistics']) {
    await waitFor(`${name} to say it is not ready`, async () => (await request(sb.url(name), 'GET', '/readyz')).status === 503);
    await call(sb, name, 'GET', '/readyz', { expect: 503 });
  }
}

// A reply read off a raw socket: status, headers (lower-case names) and body.
function rawExchange(port, bytes) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.setTimeout(15000, () => socket.destroy(new Error('no reply within 15 s')));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`not an HTTP reply: ${JSON.stringify(text.slice(0, 200))}`));
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: text.slice(split + 4) });
    });
  });
}

// The HTTP edge answers before any route runs, the same on every route: each documented 431 and
// 408 is brought about on its own route. The 408 comes from services whose HTTP_REQUEST_TIMEOUT
// is one second, sent a request line and a header but never the end of the headers.
async function edgeErrors(sb, timing) {
  for (const [service, checker] of Object.entries(checkers)) {
    for (const key of checker.documented().filter((k) => / (408|431)$/.test(k))) {
      const [method, template, status] = key.split(' ');
      const p = template.replace(/\{\w+\}/g, '1');
      const reply = status === '431'
        ? await request(sb.url(service), method, p, { headers: { 'X-Filler': 'a'.repeat(20000) } })
        : await rawExchange(new URL(timing.url(service)).port, `${method} ${p} HTTP/1.1\r\nHost: localhost\r\n`);
      for (const problem of checker.check(method, template, reply)) report.fail(problem);
      report.ok(reply.status === Number(status), `${service} ${key}: the edge answered ${reply.status}: ${reply.body.slice(0, 200)}`);
      report.ok(/close/i.test(reply.headers.connection || ''), `${service} ${key}: no Connection: close on the edge's error`);
    }
  }
}

await runWithSandbox('http', async (sb) => {
  try {
    await sb.start('special-offers', { env: { EVENTS_PAGE_LIMIT: '3' } });
    for (const name of ['loyalty', 'notifications', 'statistics']) await sb.start(name);
    const offer = await specialOffers(sb);
    await loyalty(sb, offer);
    await notifications(sb);
    await statistics(sb);

    const timing = new Sandbox('http-timing');
    try {
      await timing.open();
      for (const name of Object.keys(checkers)) {
        await timing.start(name, { env: { HTTP_REQUEST_TIMEOUT: '1s', CATCH_UP: 'off' } });
      }
      await edgeErrors(sb, timing);
    } finally {
      await timing.close();
    }

    const down = new Sandbox('http-down');
    try {
      await down.open();
      await withoutRedis(down);
    } finally {
      await down.close();
    }

    for (const [service, checker] of Object.entries(checkers)) {
      for (const key of checker.unexercised((k) => EXPLAINED.some(([re]) => re.test(k)) || (k.endsWith(' 422') && !idempotencyKeys))) {
        report.fail(`${checker.file}: documents ${key}, which no call here brought about`);
      }
    }
    console.log('documented statuses not brought about, and why:');
    for (const [re, why] of EXPLAINED) console.log(`  ${re.source.trim()}: ${why}`);
    if (!idempotencyKeys) console.log('  422: this build does not keep Idempotency-Keys');
    report.finish('live replies against the OpenAPI documents');
  } catch (e) {
    if (!e.listsMismatches) e.message += report.summary();
    throw e;
  }
});
