// Reads real messages off the three queues after creates, updates and removes (with and without
// X-Request-Id) and checks their properties, headers and payload against the AsyncAPI document;
// checks the exchange and the queues the services declare against the document's AMQP bindings.
// Only special-offers runs (it declares the whole topology), so the messages wait in the queues;
// then a delivery loyalty failed is read back off its queue after its stay in loyalty.retry.
import amqp from 'amqplib';
import { AsyncApiChecker } from './checker.mjs';
import { Report, management, request, runWithSandbox, waitFor } from './support.mjs';

const report = new Report();
const checker = await AsyncApiChecker.load();
const QUEUES = ['loyalty', 'notifications', 'statistics'];

function checkTopology(vhost, queues, exchange, bindings) {
  const doc = checker.json.channels;
  const exchangeChannel = Object.values(doc).find((c) => c.bindings?.amqp?.is === 'routingKey');
  const ex = exchangeChannel.bindings.amqp.exchange;
  report.ok(exchange.name === ex.name && exchange.type === ex.type && exchange.durable === ex.durable && exchange.auto_delete === ex.autoDelete,
    `exchange ${exchange.name}: type ${exchange.type}, durable ${exchange.durable}, auto_delete ${exchange.auto_delete}; the document says ${JSON.stringify(ex)}`);
  for (const name of QUEUES) {
    const channel = checker.channel(name);
    const q = queues.find((x) => x.name === name);
    if (!report.ok(channel && q, `queue ${name}: ${channel ? 'not declared by the service' : 'not in the document'}`)) continue;
    const b = channel.bindings.amqp.queue;
    report.ok(q.durable === b.durable && q.exclusive === b.exclusive && q.auto_delete === b.autoDelete,
      `queue ${name}: durable ${q.durable}, exclusive ${q.exclusive}, auto_delete ${q.auto_delete}; the document says ${JSON.stringify(b)}`);
    const declared = { ...q.arguments };
    delete declared['x-queue-type']; // the broker's own note of the default type
    report.ok(JSON.stringify(Object.entries(declared).sort()) === JSON.stringify(Object.entries(channel['x-queue-arguments']).sort()),
      `queue ${name}: arguments ${JSON.stringify(q.arguments)}; the document says ${JSON.stringify(channel['x-queue-arguments'])}`);
    report.ok(bindings.some((x) => x.destination === name && x.destination_type === 'queue'), `queue ${name} is not bound to ${ex.name}`);
  }
}

await runWithSandbox('messages', async (sb) => {
  try {
    const startedAt = Math.floor(Date.now() / 1000);
    await sb.start('special-offers');
    const vh = encodeURIComponent(sb.vhost);
    const queues = await waitFor('the topology', async () => {
      const qs = await management('GET', `/api/queues/${vh}`);
      return QUEUES.every((n) => qs.some((q) => q.name === n)) && qs;
    });
    const exchange = await management('GET', `/api/exchanges/${vh}/special-offers`);
    const bindings = await management('GET', `/api/exchanges/${vh}/special-offers/bindings/source`);
    checkTopology(sb.vhost, queues, exchange, bindings);

    const so = sb.url('special-offers');
    const write = async (method, p, body, requestId) => {
      const headers = requestId ? { 'X-Request-Id': requestId } : {};
      const r = await request(so, method, p, { body: body && JSON.stringify(body), headers });
      if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${r.body}`);
      return { reply: r, requestId: r.headers['x-request-id'], json: r.body ? JSON.parse(r.body) : undefined };
    };
    const a = await write('POST', '/offers', { description: 'Two coffees for one' }, 'msg-create-a');
    const b = await write('POST', '/offers', { description: 'Half-price tea' });
    const writes = [
      a,
      b,
      await write('PUT', `/offers/${a.json.id}`, { description: 'Three coffees for two' }, 'msg-update-a'),
      await write('PUT', `/offers/${b.json.id}`, { description: 'Free tea with any cake' }),
      await write('DELETE', `/offers/${a.json.id}`, undefined, 'msg-remove-a'),
      await write('DELETE', `/offers/${b.json.id}`),
    ];
    const expectedTypes = ['SpecialOfferCreated', 'SpecialOfferCreated', 'SpecialOfferUpdated', 'SpecialOfferUpdated', 'SpecialOfferRemoved', 'SpecialOfferRemoved'];
    const feed = JSON.parse((await request(so, 'GET', '/events?start=1&end=7')).body);

    const conn = await amqp.connect(sb.amqpUrl());
    try {
      const ch = await conn.createChannel();
      for (const queue of QUEUES) {
        const got = [];
        await waitFor(`${writes.length} messages on ${queue}`, async () => {
          const m = await ch.get(queue, { noAck: false });
          if (m) got.push(m);
          return got.length === writes.length;
        });
        const endedAt = Math.ceil(Date.now() / 1000);
        got.forEach((m, i) => {
          const seq = i + 1;
          const where = `${queue}, message ${seq}`;
          for (const problem of checker.check(queue, m)) report.fail(problem);
          const p = m.properties;
          report.ok(p.messageId === `special-offers-${seq}`, `${where}: message_id ${p.messageId}, expected special-offers-${seq}`);
          report.ok(p.type === expectedTypes[i], `${where}: type ${p.type}, expected ${expectedTypes[i]}`);
          report.ok(p.correlationId === writes[i].requestId, `${where}: correlation_id ${p.correlationId}, the reply's X-Request-Id was ${writes[i].requestId}`);
          report.ok(p.timestamp >= startedAt - 1 && p.timestamp <= endedAt + 1, `${where}: timestamp ${p.timestamp} is not the Unix time (seconds) of the run`);
          const payload = JSON.parse(m.content.toString('utf8'));
          report.ok(payload.sequenceNumber === seq && payload.name === p.type, `${where}: payload ${m.content.toString('utf8')}`);
          report.ok(JSON.stringify(payload) === JSON.stringify(feed[i]), `${where}: payload differs from the feed's event ${JSON.stringify(feed[i])}`);
          ch.ack(m);
        });
        report.ok((await ch.get(queue, { noAck: false })) === false, `${queue}: more messages than writes`);
      }

      // A delivery that failed comes back to its queue from S.retry with the same properties and
      // the headers the retry adds: one parked by loyalty, read once loyalty is stopped.
      await sb.start('loyalty', { env: { FAIL_ON_DESCRIPTION: 'always fails', RETRY_DELAYS: '3s,3s,3s' } });
      await write('POST', '/offers', { description: 'This one always fails' }, 'msg-retried');
      await waitFor('a retry parked in loyalty.retry', async () => (await management('GET', `/api/queues/${vh}/loyalty.retry`)).messages >= 1);
      await sb.stop('loyalty');
      const back = await waitFor('the retry back on loyalty', () => ch.get('loyalty', { noAck: false }), 30000);
      for (const problem of checker.check('loyalty', back)) report.fail(problem);
      const h = back.properties.headers || {};
      report.ok(h['x-retry-count'] >= 1 && Array.isArray(h['x-death']), `retried message: headers ${JSON.stringify(h)}`);
      report.ok(back.properties.correlationId === 'msg-retried' && back.properties.messageId === 'special-offers-7', `retried message: properties ${JSON.stringify(back.properties)}`);
      ch.ack(back);
      await ch.close();
    } finally {
      await conn.close();
    }
    report.ok(writes[0].requestId === 'msg-create-a' && writes[1].requestId.length > 0, 'X-Request-Id of the writes');
    report.finish('messages on every queue against the AsyncAPI document');
  } catch (e) {
    if (!e.listsMismatches) e.message += report.summary();
    throw e;
  }
});
