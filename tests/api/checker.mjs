// Checks real replies and messages against the documents in api/: a reply's status, every header
// and the body against its OpenAPI operation, a message's properties, headers and payload against
// its AsyncAPI message. Every difference is returned as a sentence; an empty list means it matches.
import fs from 'node:fs';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Parser, fromFile } from '@asyncapi/parser';
import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import { API_DIR } from './support.mjs';

// Headers of the HTTP message itself rather than of the API: framing and connection management.
// Content-Type is checked against the documented media types instead.
export const TRANSPORT_HEADERS = new Set(['content-length', 'connection', 'keep-alive', 'date', 'transfer-encoding']);

// OpenAPI 3.1 schemas are JSON Schema 2020-12; AsyncAPI 3 schemas are a superset of draft-07.
export function newAjv(dialect = '2020-12') {
  const options = { allErrors: true, strict: true, strictRequired: false, validateFormats: true };
  const ajv = dialect === '2020-12' ? new Ajv2020(options) : new Ajv(options);
  addFormats(ajv);
  // Annotations of OpenAPI and AsyncAPI schema objects, not assertions.
  ajv.addVocabulary(['example', 'externalDocs', 'xml', 'discriminator']);
  return ajv;
}

function describeErrors(errors) {
  return errors.map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`).join('; ');
}

export class OpenApiChecker {
  static async load(file) {
    const raw = fs.readFileSync(path.join(API_DIR, file), 'utf8');
    const doc = await SwaggerParser.dereference(YAML.parse(raw));
    return new OpenApiChecker(file, doc, raw);
  }

  constructor(file, doc, raw) {
    this.file = file;
    this.doc = doc;
    this.raw = raw;
    this.ajv = newAjv();
    this.compiled = new Map();
    this.seen = new Set();
  }

  validator(schema) {
    let v = this.compiled.get(schema);
    if (!v) {
      v = this.ajv.compile(schema);
      this.compiled.set(schema, v);
    }
    return v;
  }

  operation(method, template) {
    const item = this.doc.paths[template];
    return item && item[method.toLowerCase()];
  }

  // Every documented (method, path, status).
  documented() {
    const all = [];
    for (const [template, item] of Object.entries(this.doc.paths)) {
      for (const method of ['get', 'put', 'post', 'delete', 'patch']) {
        if (!item[method]) continue;
        for (const status of Object.keys(item[method].responses)) all.push(`${method.toUpperCase()} ${template} ${status}`);
      }
    }
    return all;
  }

  // Whether the documented request body schema accepts body (a string); undefined when the
  // operation takes no body or the text is not JSON.
  acceptsRequestBody(method, template, body) {
    const op = this.operation(method, template);
    const media = op && op.requestBody && op.requestBody.content['application/json'];
    if (!media) return undefined;
    let value;
    try {
      value = JSON.parse(body);
    } catch {
      return false;
    }
    return this.validator(media.schema)(value);
  }

  // Whether the documented path and query parameter schemas accept these values (strings, as
  // sent); integers are compared as numbers when the text is a decimal number.
  acceptsParameters(method, template, values) {
    const item = this.doc.paths[template];
    const op = this.operation(method, template);
    if (!op) return false;
    const params = [...(item.parameters || []), ...(op.parameters || [])].filter((p) => p.in === 'path' || p.in === 'query');
    for (const [name, text] of Object.entries(values)) {
      const p = params.find((x) => x.name === name);
      if (!p) return false;
      const value = /^-?\d+(\.\d+)?$/.test(text) && ['integer', 'number'].includes(p.schema.type) ? Number(text) : text;
      if (!this.validator(p.schema)(value)) return false;
    }
    return params.every((p) => !p.required || values[p.name] !== undefined);
  }

  // reply: {status, headers (lower-case names), body (text)}. Returns the mismatches.
  check(method, template, reply) {
    const where = `${this.file}: ${method} ${template} -> ${reply.status}`;
    const op = this.operation(method, template);
    if (!op) return [`${this.file}: ${method} ${template} is not documented`];
    const spec = op.responses[String(reply.status)];
    if (!spec) return [`${where}: status ${reply.status} is not documented (body ${reply.body.slice(0, 200)})`];
    this.seen.add(`${method} ${template} ${reply.status}`);
    const problems = [];

    const documentedHeaders = new Map(Object.entries(spec.headers || {}).map(([k, v]) => [k.toLowerCase(), { name: k, ...v }]));
    for (const [name, value] of Object.entries(reply.headers)) {
      if (TRANSPORT_HEADERS.has(name) || name === 'content-type') continue;
      const h = documentedHeaders.get(name);
      if (!h) {
        problems.push(`${where}: header ${name} (${value}) is sent but not documented`);
        continue;
      }
      const v = this.validator(h.schema);
      if (!v(value)) problems.push(`${where}: header ${h.name} "${value}" does not match its schema: ${describeErrors(v.errors)}`);
    }
    for (const [name, h] of documentedHeaders) {
      if (h.required && reply.headers[name] === undefined) problems.push(`${where}: required header ${h.name} is missing`);
    }

    const contentType = reply.headers['content-type'];
    if (!spec.content) {
      if (contentType !== undefined) problems.push(`${where}: sends Content-Type ${contentType}, the document says no body`);
      if (reply.body.length) problems.push(`${where}: sends a body, the document says none: ${reply.body.slice(0, 200)}`);
      return problems;
    }
    if (contentType === undefined) {
      problems.push(`${where}: no Content-Type, the document says ${Object.keys(spec.content).join(' or ')}`);
      return problems;
    }
    const mediaType = contentType.split(';')[0].trim().toLowerCase();
    const media = spec.content[mediaType];
    if (!media) {
      problems.push(`${where}: Content-Type ${contentType} is not documented (${Object.keys(spec.content).join(', ')})`);
      return problems;
    }
    let value = reply.body;
    if (mediaType === 'application/json') {
      try {
        value = JSON.parse(reply.body);
      } catch (e) {
        problems.push(`${where}: body is not JSON (${e.message}): ${reply.body.slice(0, 200)}`);
        return problems;
      }
    }
    const v = this.validator(media.schema);
    if (!v(value)) {
      problems.push(`${where}: body does not match the document: ${describeErrors(v.errors)}; body ${reply.body.slice(0, 300)}`);
    }
    return problems;
  }

  // Documented statuses never seen, minus those the caller explains.
  unexercised(explained) {
    return this.documented().filter((key) => !this.seen.has(key) && !explained(key));
  }
}

function toSnakeProperties(props) {
  const map = {
    contentType: 'content_type',
    contentEncoding: 'content_encoding',
    headers: 'headers',
    deliveryMode: 'delivery_mode',
    priority: 'priority',
    correlationId: 'correlation_id',
    replyTo: 'reply_to',
    expiration: 'expiration',
    messageId: 'message_id',
    timestamp: 'timestamp',
    type: 'type',
    userId: 'user_id',
    appId: 'app_id',
    clusterId: 'cluster_id',
  };
  const out = {};
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === 'headers' && Object.keys(v).length === 0) continue;
    out[map[k] || k] = v;
  }
  return out;
}

// The AsyncAPI parser names every schema it resolved (x-parser-schema-id); those notes are not
// part of the document.
function withoutParserNotes(value, seen = new Map()) {
  if (Array.isArray(value)) return value.map((v) => withoutParserNotes(v, seen));
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return seen.get(value);
  const out = {};
  seen.set(value, out);
  for (const [k, v] of Object.entries(value)) {
    if (!k.startsWith('x-parser-')) out[k] = withoutParserNotes(v, seen);
  }
  return out;
}

export class AsyncApiChecker {
  static async load(file = 'events.asyncapi.yaml') {
    const parser = new Parser();
    const { document, diagnostics } = await fromFile(parser, path.join(API_DIR, file)).parse();
    if (!document) throw new Error(`${file} does not parse: ${diagnostics.map((d) => d.message).join('; ')}`);
    return new AsyncApiChecker(file, document);
  }

  constructor(file, document) {
    this.file = file;
    this.document = document;
    this.json = withoutParserNotes(document.json());
    this.ajv = newAjv('draft-07');
  }

  // The channel whose address is the queue's name.
  channel(address) {
    return Object.values(this.json.channels).find((c) => c.address === address);
  }

  // message: {properties (amqplib's), content (Buffer)} as read from queue. Returns the mismatches.
  check(queue, message) {
    const channel = this.channel(queue);
    const props = toSnakeProperties(message.properties);
    const where = `${this.file}: message ${props.message_id ?? '(no message_id)'} on ${queue}`;
    if (!channel) return [`${this.file}: no channel has the address ${queue}`];
    const candidates = Object.values(channel.messages).filter((m) => m.bindings?.amqp?.messageType === props.type);
    if (candidates.length !== 1) {
      return [`${where}: type ${props.type} is not one of the channel's messages (${Object.values(channel.messages).map((m) => m.name).join(', ')})`];
    }
    const m = candidates[0];
    const problems = [];
    const vh = this.ajv.compile(m.headers);
    if (!vh(props)) problems.push(`${where}: properties do not match ${m.name}: ${describeErrors(vh.errors)}; ${JSON.stringify(props)}`);
    if (m.contentType && props.content_type !== m.contentType) {
      problems.push(`${where}: content_type ${props.content_type}, the document says ${m.contentType}`);
    }
    let payload;
    try {
      payload = JSON.parse(message.content.toString('utf8'));
    } catch (e) {
      problems.push(`${where}: payload is not JSON: ${e.message}`);
      return problems;
    }
    const vp = this.ajv.compile(m.payload);
    if (!vp(payload)) problems.push(`${where}: payload does not match ${m.name}: ${describeErrors(vp.errors)}; ${message.content.toString('utf8').slice(0, 300)}`);
    return problems;
  }
}
