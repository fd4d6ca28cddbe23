// k8s/ checked offline: every manifest parses, every object validates against the Kubernetes API
// schema (the validators kubernetes-models generates from the Kubernetes OpenAPI document, pinned
// in tests/package.json), k8s/Kustomization names every file, each Deployment runs two replicas
// with liveness on /healthz and readiness on /readyz at the contract's port and resources set, and
// images, ports and variables agree with compose.yaml and the contract. Nothing is applied here.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const k8s = path.join(root, 'k8s');
const SERVICES = { 'special-offers': 8080, loyalty: 8081, notifications: 8082, statistics: 8083 };

let failures = 0;
let checks = 0;
const check = (cond, what) => {
  checks += 1;
  if (!cond) {
    failures += 1;
    console.log(`FAIL: ${what}`);
  }
  return cond;
};

// The model class of an object (kubernetes-models/<group>/<version>/<Kind>).
function modelOf(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const dir = group === '' ? version : `${group}/${version}`;
  return require(`kubernetes-models/${dir}/${kind}`)[kind];
}

const files = readdirSync(k8s).filter((f) => f.endsWith('.yaml')).sort();
const objects = [];
for (const file of files) {
  const docs = YAML.parseAllDocuments(readFileSync(path.join(k8s, file), 'utf8'));
  for (const doc of docs) {
    if (!check(doc.errors.length === 0, `${file}: ${doc.errors.map((e) => e.message).join('; ')}`)) continue;
    const obj = doc.toJS();
    if (obj) objects.push({ file, obj });
  }
}

// Named Kustomization (no extension): kustomize finds it for `kubectl apply -k k8s/`, and
// `kubectl apply -f k8s/` reads only .yaml, .yml and .json files, so it never takes it for an object.
const kustomization = YAML.parse(readFileSync(path.join(k8s, 'Kustomization'), 'utf8'));
check(kustomization?.kind === 'Kustomization', 'k8s/Kustomization is a Kustomization');
const listed = new Set(kustomization?.resources ?? []);
for (const f of files) check(listed.has(f), `k8s/Kustomization lists ${f}`);
check(!readdirSync(k8s).some((f) => /^kustomization\.ya?ml$/i.test(f)),
  'no kustomization.yaml beside Kustomization (kubectl apply -f would read it as an object)');

const byKind = (kind) => objects.filter((o) => o.obj.kind === kind).map((o) => o.obj);
for (const { file, obj } of objects) {
  const where = `${file}: ${obj.kind} ${obj.metadata?.name}`;
  let Model;
  try {
    Model = modelOf(obj.apiVersion, obj.kind);
  } catch {
    check(false, `${where}: unknown apiVersion/kind ${obj.apiVersion} ${obj.kind}`);
    continue;
  }
  try {
    new Model(obj).validate();
    check(true, where);
  } catch (e) {
    check(false, `${where}: ${e.message}`);
  }
}

// The services: what the contract says, and what compose.yaml runs.
const compose = YAML.parse(readFileSync(path.join(root, 'compose.yaml'), 'utf8'), { merge: true });
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const documented = new Set([...readme.matchAll(/^\| `([A-Z_]+)`(?:, `([A-Z_]+)`)?/gm)].flatMap((m) => [m[1], m[2]]));
const contract = (() => {
  try {
    return readFileSync(path.join(root, '..', 'shared', 'CONTRACT.md'), 'utf8');
  } catch {
    return '';
  }
})();
for (const v of contract.matchAll(/`([A-Z][A-Z_]+)=/g)) documented.add(v[1]);
for (const v of ['REDIS_SENTINELS', 'REDIS_MASTER_NAME', 'REDIS_MIN_REPLICAS', 'REDIS_WAIT_TIMEOUT']) documented.add(v);

const deployments = byKind('Deployment');
const services = byKind('Service');
for (const [name, port] of Object.entries(SERVICES)) {
  const d = deployments.find((x) => x.metadata.name === name);
  if (!check(d, `a Deployment ${name}`)) continue;
  check(d.spec.replicas === 2, `${name}: 2 replicas (has ${d.spec.replicas})`);
  const [c] = d.spec.template.spec.containers;
  const ports = Object.fromEntries((c.ports ?? []).map((p) => [p.name, p.containerPort]));
  const portOf = (p) => (typeof p === 'string' ? ports[p] : p);
  check(ports.http === port, `${name}: container port ${port} (has ${ports.http})`);
  check(c.livenessProbe?.httpGet?.path === '/healthz' && portOf(c.livenessProbe.httpGet.port) === port,
    `${name}: liveness probe on /healthz at ${port}`);
  check(c.readinessProbe?.httpGet?.path === '/readyz' && portOf(c.readinessProbe.httpGet.port) === port,
    `${name}: readiness probe on /readyz at ${port}`);
  for (const r of ['cpu', 'memory']) {
    check(c.resources?.requests?.[r] && c.resources?.limits?.[r], `${name}: ${r} requested and limited`);
  }
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
  const fromRefs = (c.envFrom ?? []).map((e) => e.configMapRef?.name ?? e.secretRef?.name);
  for (const ref of fromRefs) {
    check(objects.some((o) => ['ConfigMap', 'Secret'].includes(o.obj.kind) && o.obj.metadata.name === ref),
      `${name}: envFrom ${ref} exists`);
  }
  const fromData = (c.envFrom ?? []).map((e) => {
    const ref = e.configMapRef ?? e.secretRef;
    const o = objects.find((x) => x.obj.kind === (e.configMapRef ? 'ConfigMap' : 'Secret') && x.obj.metadata.name === ref?.name);
    return o?.obj.data ?? o?.obj.stringData ?? {};
  });
  const all = Object.assign({}, ...fromData, env);
  check(env.HTTP_PORT === String(port), `${name}: HTTP_PORT ${port}`);
  for (const v of Object.keys(all)) check(documented.has(v), `${name}: ${v} is a documented variable`);
  check(all.QUEUE_TYPE === 'quorum', `${name}: QUEUE_TYPE=quorum`);
  check((all.AMQP_URL ?? '').split(',').length === 3, `${name}: AMQP_URL lists the three broker nodes`);
  check(all.REDIS_SENTINELS?.split(',').length === 3, `${name}: REDIS_SENTINELS lists three sentinels`);

  const s = services.find((x) => x.metadata.name === name);
  check(s && s.spec.ports.some((p) => p.port === port) && s.spec.selector?.['app.kubernetes.io/name'] === name,
    `${name}: a Service on ${port} selecting its pods`);

  const cs = compose.services[name];
  if (!check(cs, `compose.yaml runs ${name}`)) continue;
  check(cs.image === c.image, `${name}: the image of compose.yaml (${cs.image}, k8s has ${c.image})`);
  check(JSON.stringify(cs.command) === JSON.stringify(c.command), `${name}: the command of compose.yaml`);
  check(String(cs.environment.HTTP_PORT) === env.HTTP_PORT, `${name}: HTTP_PORT as in compose.yaml`);
  check(cs.ports.some((p) => String(p).endsWith(`:${port}`)), `${name}: compose.yaml publishes ${port}`);
  for (const v of Object.keys(cs.environment)) check(v in all, `${name}: ${v} set as in compose.yaml`);
  if (name !== 'special-offers') {
    check(all.FEED_URL === cs.environment.FEED_URL, `${name}: FEED_URL as in compose.yaml`);
  }
}

const sts = (n) => byKind('StatefulSet').find((x) => x.metadata.name === n);
const rabbit = sts('rabbitmq');
if (check(rabbit, 'a StatefulSet rabbitmq')) {
  check(rabbit.spec.replicas === 3, 'rabbitmq: three nodes');
  const c = rabbit.spec.template.spec.containers[0];
  check(c.image === compose.services.rabbitmq.image, `rabbitmq: the image of compose.yaml (${c.image})`);
  const conf = byKind('ConfigMap').map((m) => m.data?.['rabbitmq.conf'] ?? '').join('\n');
  check(/peer_discovery_backend = rabbit_peer_discovery_k8s/.test(conf), 'rabbitmq: Kubernetes peer discovery');
  for (const p of [5672, 15672]) check(c.ports.some((x) => x.containerPort === p), `rabbitmq: port ${p}`);
}
const redis = sts('redis');
if (check(redis, 'a StatefulSet redis')) {
  check(redis.spec.replicas === 2, 'redis: a master and a replica');
  check(redis.spec.template.spec.containers[0].image === compose.services.redis.image, 'redis: the image of compose.yaml');
}
const sentinel = sts('redis-sentinel');
if (check(sentinel, 'a StatefulSet redis-sentinel')) {
  check(sentinel.spec.replicas === 3, 'redis-sentinel: three sentinels');
  check(sentinel.spec.template.spec.containers[0].command.join(' ').includes('sentinel monitor offers'),
    'redis-sentinel: monitors the master named offers');
}

console.log(`${objects.length} objects in ${files.length} files; ${checks} checks`);
console.log(`${checks - failures} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
