// A CDS Hooks client for ThinkFamily's tests, built on Medplum's client (@medplum/core 5.x,
// which needs Node 22: run it with the `node` binary that the node@22 package installs).
//
// Usage: node cds_client.mjs CONFIG.json
// CONFIG: { fhirBase, cdsServices, serviceId, context, user, key: {pem, kid, alg, iss, sub} }
// Prints one JSON object: { discovery, request: {hook, prefetchKeys}, response }.
// Every call carries a fresh JWT signed with the EHR's private key, as CDS Hooks requires.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { buildCdsRequest, MedplumClient } from 'medplum-core-5';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

function b64(value) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function signedJwt(aud) {
  const { pem, kid, alg, iss, sub } = config.key;
  const now = Math.floor(Date.now() / 1000);
  const header = { alg, typ: 'JWT', kid };
  const claims = { iss, sub, aud, exp: now + 120, iat: now, jti: crypto.randomUUID() };
  const input = `${b64(header)}.${b64(claims)}`;
  const key = crypto.createPrivateKey(pem);
  const hash = `sha${alg.slice(2)}`;
  const signature = alg.startsWith('ES')
    ? crypto.sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
    : crypto.sign(hash, Buffer.from(input), key);
  return `${input}.${signature.toString('base64url')}`;
}

const medplum = new MedplumClient({
  baseUrl: config.fhirBase,
  fhirUrlPath: 'fhir/R4',
  cdsServicesUrl: config.cdsServices,
  cacheTime: 0,
});

const auth = (url) => ({ headers: { Authorization: `Bearer ${signedJwt(url)}` } });
const discovery = await medplum.getCdsServices(auth(config.cdsServices));
const service = discovery.services.find((s) => s.id === config.serviceId);
if (!service) {
  throw new Error(`service ${config.serviceId} not offered`);
}
const request = await buildCdsRequest(medplum, config.user, service, config.context);
const response = await medplum.callCdsService(
  service.id,
  request,
  auth(`${config.cdsServices}/${service.id}`),
);
process.stdout.write(
  JSON.stringify({
    discovery,
    request: {
      hook: request.hook,
      hookInstance: request.hookInstance,
      prefetchKeys: Object.keys(request.prefetch ?? {}).filter((k) => request.prefetch[k] !== null),
    },
    response,
  }),
);
