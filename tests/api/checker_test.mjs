// The checker itself: a reply or a message shaped as the documents say passes, and each way of
// changing its shape without the document (a field added or dropped, a type changed, a header
// added or dropped, a status or media type nobody documented) fails; parameters outside their
// documented schemas are told apart from those inside.
import { AsyncApiChecker, OpenApiChecker } from './checker.mjs';
import { Report } from './support.mjs';

const report = new Report();
const offers = await OpenApiChecker.load('special-offers.openapi.yaml');
const stats = await OpenApiChecker.load('statistics.openapi.yaml');
const events = await AsyncApiChecker.load();

const created = () => ({
  status: 201,
  headers: {
    'content-type': 'application/json',
    location: '/offers/1',
    'x-request-id': 'demo-1',
    connection: 'Close',
    'content-length': '44',
  },
  body: '{"id":1,"description":"Two coffees for one"}',
});
const statsReply = () => ({
  status: 200,
  headers: { 'content-type': 'application/json', 'x-request-id': 'r1' },
  body: '{"eventsByType":{"SpecialOfferCreated":2},"activeOffers":1,"lastSequenceNumber":4,"ignored":0,"stale":0}',
});

function expectPass(what, problems) {
  report.ok(problems.length === 0, `${what} should pass: ${problems.join('; ')}`);
}
function expectFail(what, problems) {
  report.ok(problems.length > 0, `${what} should fail, the checker found nothing`);
}
const tamper = (reply, change) => {
  const r = structuredClone(reply);
  change(r);
  return r;
};

expectPass('POST /offers 201 as sent today', offers.check('POST', '/offers', created()));
expectPass('GET /stats 200 as sent today', stats.check('GET', '/stats', statsReply()));
expectPass('POST /offers 201 replayed', offers.check('POST', '/offers', tamper(created(), (r) => { r.headers['idempotent-replayed'] = 'true'; })));
expectFail('an added field', offers.check('POST', '/offers', tamper(created(), (r) => { r.body = '{"id":1,"description":"x","price":3}'; })));
expectFail('a dropped field', offers.check('POST', '/offers', tamper(created(), (r) => { r.body = '{"id":1}'; })));
expectFail('a changed type', offers.check('POST', '/offers', tamper(created(), (r) => { r.body = '{"id":"1","description":"x"}'; })));
expectFail('an added header', offers.check('POST', '/offers', tamper(created(), (r) => { r.headers['x-powered-by'] = 'x'; })));
expectFail('a dropped header', offers.check('POST', '/offers', tamper(created(), (r) => { delete r.headers.location; })));
expectFail('a header of another shape', offers.check('POST', '/offers', tamper(created(), (r) => { r.headers.location = '/offer/1'; })));
expectFail('an undocumented status', offers.check('POST', '/offers', tamper(created(), (r) => { r.status = 202; })));
expectFail('an undocumented media type', offers.check('POST', '/offers', tamper(created(), (r) => { r.headers['content-type'] = 'text/plain'; })));
expectFail('a body that is not JSON', offers.check('POST', '/offers', tamper(created(), (r) => { r.body = 'created'; })));
expectFail('a body on 204', offers.check('DELETE', '/offers/{id}', { status: 204, headers: { 'x-request-id': 'a' }, body: '{}' }));
expectFail('an error body with more than "error"', offers.check('GET', '/offers/{id}', { status: 404, headers: { 'content-type': 'application/json', 'x-request-id': 'a' }, body: '{"error":"offer 9 not found","code":404}' }));
expectFail('a stats counter added', stats.check('GET', '/stats', tamper(statsReply(), (r) => { r.body = r.body.replace('"stale":0', '"stale":0,"retried":0'); })));
expectFail('a route nobody documented', offers.check('GET', '/offers/{id}/history', created()));

const notifications = await OpenApiChecker.load('notifications.openapi.yaml');
report.ok(notifications.acceptsParameters('GET', '/notifications', { limit: '10' }), 'limit=10 is a documented value');
report.ok(!notifications.acceptsParameters('GET', '/notifications', { limit: '0' }), 'limit=0 is outside the documented range');
report.ok(!notifications.acceptsParameters('GET', '/notifications', { limit: 'ten' }), 'limit=ten is not an integer');
report.ok(!notifications.acceptsParameters('GET', '/notifications', { since: '1' }), 'since is not a documented parameter');
report.ok(offers.acceptsParameters('GET', '/offers/{id}', { id: '7' }), 'offer id 7 is a documented value');
report.ok(!offers.acceptsParameters('GET', '/offers/{id}', { id: 'abc' }), 'offer id abc is not an integer');

const message = () => ({
  properties: {
    contentType: 'application/json',
    contentEncoding: undefined,
    headers: { 'x-schema-version': 1 },
    deliveryMode: 2,
    priority: undefined,
    correlationId: 'demo-1',
    replyTo: undefined,
    expiration: undefined,
    messageId: 'special-offers-1',
    timestamp: 1795464917,
    type: 'SpecialOfferCreated',
    userId: undefined,
    appId: 'special-offers',
    clusterId: undefined,
  },
  content: Buffer.from('{"sequenceNumber":1,"occurredAt":"2026-11-23T20:15:17.244Z","name":"SpecialOfferCreated","content":{"id":1,"description":"Two coffees for one"}}'),
});
const tamperMessage = (change) => {
  const m = message();
  change(m);
  return events.check('loyalty', m);
};
expectPass('a SpecialOfferCreated as published today', events.check('loyalty', message()));
expectFail('a property added', tamperMessage((m) => { m.properties.priority = 5; }));
expectFail('a property dropped', tamperMessage((m) => { delete m.properties.correlationId; }));
expectFail('a header added', tamperMessage((m) => { m.properties.headers['x-tenant'] = 'a'; }));
expectFail('x-schema-version dropped', tamperMessage((m) => { m.properties.headers = {}; }));
expectFail('transient delivery', tamperMessage((m) => { m.properties.deliveryMode = 1; }));
expectFail('a message_id of another shape', tamperMessage((m) => { m.properties.messageId = '1'; }));
expectFail('an undocumented type', tamperMessage((m) => { m.properties.type = 'SpecialOfferPaused'; }));
expectFail('a payload field added', tamperMessage((m) => { m.content = Buffer.from(m.content.toString().replace('"name"', '"source":"x","name"')); }));
expectFail('a payload of another event', tamperMessage((m) => { m.properties.type = 'SpecialOfferRemoved'; }));
expectFail('occurredAt without milliseconds', tamperMessage((m) => { m.content = Buffer.from(m.content.toString().replace('17.244Z', '17Z')); }));
expectFail('a queue nobody documented', events.check('audit', message()));

report.finish('the checker catches replies and messages that differ from the documents');
