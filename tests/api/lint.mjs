// The documents in api/ are valid: each OpenAPI document validates against the OpenAPI 3.1 schema
// (@apidevtools/swagger-parser), the AsyncAPI document parses with no diagnostic at all
// (@asyncapi/parser: no error, warning, information or hint), every operation has an id, every
// component is used, and every example in them matches its own schema.
import fs from 'node:fs';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import YAML from 'yaml';
import { AsyncApiChecker, OpenApiChecker } from './checker.mjs';
import { API_DIR, Report } from './support.mjs';
import { Parser, fromFile } from '@asyncapi/parser';

const OPENAPI = ['special-offers', 'loyalty', 'notifications', 'statistics'].map((s) => `${s}.openapi.yaml`);
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

const report = new Report();

function checkExample(checker, where, schema, example) {
  if (example === undefined || !schema) return;
  const v = checker.validator(schema);
  report.ok(v(example), `${where}: example does not match its schema: ${JSON.stringify(v.errors)}`);
}

for (const file of OPENAPI) {
  const raw = YAML.parse(fs.readFileSync(path.join(API_DIR, file), 'utf8'));
  try {
    await SwaggerParser.validate(structuredClone(raw));
    report.ok(true);
  } catch (e) {
    report.fail(`${file}: ${e.message}`);
    continue;
  }
  report.ok(raw.openapi.startsWith('3.1.'), `${file}: openapi is ${raw.openapi}, not 3.1`);
  const text = fs.readFileSync(path.join(API_DIR, file), 'utf8');
  for (const [kind, items] of Object.entries(raw.components || {})) {
    for (const name of Object.keys(items)) {
      report.ok(text.includes(`'#/components/${kind}/${name}'`), `${file}: components.${kind}.${name} is never used`);
    }
  }
  const checker = await OpenApiChecker.load(file);
  const ids = new Set();
  for (const [template, item] of Object.entries(checker.doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const where = `${file}: ${method.toUpperCase()} ${template}`;
      report.ok(op.operationId && !ids.has(op.operationId), `${where}: no operationId, or one used twice`);
      ids.add(op.operationId);
      for (const p of [...(item.parameters || []), ...(op.parameters || [])]) {
        checkExample(checker, `${where} parameter ${p.name}`, p.schema, p.example);
      }
      for (const [type, media] of Object.entries(op.requestBody?.content || {})) {
        checkExample(checker, `${where} request ${type}`, media.schema, media.example);
      }
      for (const [status, resp] of Object.entries(op.responses)) {
        for (const [name, h] of Object.entries(resp.headers || {})) {
          checkExample(checker, `${where} ${status} header ${name}`, h.schema, h.example);
        }
        for (const [type, media] of Object.entries(resp.content || {})) {
          checkExample(checker, `${where} ${status} ${type}`, media.schema, media.example);
        }
      }
    }
  }
}

{
  const file = 'events.asyncapi.yaml';
  const { document, diagnostics } = await fromFile(new Parser(), path.join(API_DIR, file)).parse();
  for (const d of diagnostics) {
    report.fail(`${file}: ${['error', 'warning', 'information', 'hint'][d.severity]} ${d.code}: ${d.message} at ${d.path.join('.')}`);
  }
  report.ok(document && document.version().startsWith('3.'), `${file}: not an AsyncAPI 3 document`);
  if (document) {
    const checker = await AsyncApiChecker.load(file);
    for (const [name, m] of Object.entries(checker.json.components.messages)) {
      for (const ex of m.examples || []) {
        const problems = checker.check('special-offers', {
          properties: {
            contentType: ex.headers.content_type,
            deliveryMode: ex.headers.delivery_mode,
            messageId: ex.headers.message_id,
            type: ex.headers.type,
            timestamp: ex.headers.timestamp,
            appId: ex.headers.app_id,
            correlationId: ex.headers.correlation_id,
            headers: ex.headers.headers,
          },
          content: Buffer.from(JSON.stringify(ex.payload)),
        });
        report.ok(problems.length === 0, `${file}: example ${ex.name} of ${name}: ${problems.join('; ')}`);
      }
    }
    const ops = Object.values(checker.json.operations);
    report.ok(ops.filter((o) => o.action === 'send').length === 1, `${file}: special-offers must be the one sender`);
    for (const q of ['loyalty', 'notifications', 'statistics']) {
      report.ok(ops.some((o) => o.action === 'receive' && o.channel.address === q), `${file}: nobody receives from ${q}`);
    }
  }
}

report.finish('the documents in api/');
