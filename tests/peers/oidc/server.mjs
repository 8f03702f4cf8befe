// An OpenID provider for ThinkFamily's sign-in tests: node-oidc-provider on loopback, with a
// login form of its own and one test user per role.
//
// Environment:
//   PEER_PORT            port to listen on (0 picks a free one); the chosen port is printed as one
//                        JSON line {"listening": PORT} on stdout when ready.
//   PEER_CLIENT_ID       the client ThinkFamily signs in as
//   PEER_CLIENT_SECRET   its secret
//   PEER_REDIRECT_URIS   comma-separated redirect URIs the client may use
//   PEER_SMART_CONTEXT   optional JSON object: the launch context added to every token response
//                        that follows an authorization request carrying `launch` (SMART App
//                        Launch), for example {"appContext": "{\"contact_id\": \"c-1\"}"}
//
// Besides OpenID Connect discovery it serves /.well-known/smart-configuration, so the same peer
// stands in for an EHR's authorization server in SMART App Launch tests.
import http from 'node:http';
import { URLSearchParams } from 'node:url';
import Provider from 'oidc-provider';

// Synthetic users: login -> password and claims. `tf_roles` and `tf_units` are the claims the
// tests configure ThinkFamily to read.
const USERS = {
  nurse: { password: 'nurse-password', name: 'Nora Testnurse', tf_roles: ['tf-clinician'], tf_units: [] },
  ward: { password: 'ward-password', name: 'Wes Testward', tf_roles: ['tf-unit'], tf_units: ['ward-7', 'ward-9'] },
  lead: { password: 'lead-password', name: 'Lee Testlead', tf_roles: ['tf-lead'], tf_units: [] },
  admin: { password: 'admin-password', name: 'Ada Testadmin', tf_roles: ['tf-admin'], tf_units: [] },
  visitor: { password: 'visitor-password', name: 'Vic Testvisitor', tf_roles: [], tf_units: [] },
};

const port = Number(process.env.PEER_PORT ?? 0);
const clientId = process.env.PEER_CLIENT_ID ?? 'thinkfamily';
const clientSecret = process.env.PEER_CLIENT_SECRET ?? 'thinkfamily-test-client-secret';
const redirectUris = (process.env.PEER_REDIRECT_URIS ?? '').split(',').filter(Boolean);
const smartContext = JSON.parse(process.env.PEER_SMART_CONTEXT ?? '{}');

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>`
    + `<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

function loginForm(uid, problem = '') {
  return page('Sign in to the test provider', `${problem ? `<p role="alert">${escape(problem)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="login">Username</label> <input id="login" name="login" autocomplete="username">
<label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Sign in</button>
</form>`);
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

function send(res, status, type, text) {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

const server = http.createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    claims: {
      openid: ['sub'],
      profile: ['name'],
      thinkfamily: ['tf_roles', 'tf_units'],
    },
    conformIdTokenClaims: false,
    extraParams: ['launch', 'aud'],
    pkce: { required: () => true },
    cookies: { keys: ['thinkfamily-test-provider-cookie-key'] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (ctx, sub) => {
      const user = USERS[sub];
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: () => ({ sub, name: user.name, tf_roles: user.tf_roles, tf_units: user.tf_units }),
      };
    },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AuthorizationCode: 60, AccessToken: 600, IdToken: 600 },
  });
  const callback = provider.callback();
  let launched = false;

  server.on('request', async (req, res) => {
    const url = new URL(req.url, issuer);
    try {
      if (url.pathname === '/.well-known/smart-configuration') {
        send(res, 200, 'application/json', JSON.stringify({
          issuer,
          authorization_endpoint: `${issuer}/auth`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          code_challenge_methods_supported: ['S256'],
          capabilities: ['launch-ehr', 'client-confidential-symmetric', 'context-ehr-encounter', 'openid-connect'],
        }));
        return;
      }
      const interaction = url.pathname.match(/^\/interaction\/([^/]+)(\/login)?$/);
      if (interaction) {
        const details = await provider.interactionDetails(req, res);
        if (req.method === 'GET') {
          send(res, 200, 'text/html; charset=utf-8', loginForm(details.uid));
          return;
        }
        const form = await readForm(req);
        const login = form.get('login') ?? '';
        const user = USERS[login];
        if (!user || user.password !== form.get('password')) {
          send(res, 200, 'text/html; charset=utf-8', loginForm(details.uid, 'Wrong username or password'));
          return;
        }
        const grant = new provider.Grant({ accountId: login, clientId: details.params.client_id });
        grant.addOIDCScope(details.params.scope);
        const grantId = await grant.save();
        await provider.interactionFinished(req, res, { login: { accountId: login }, consent: { grantId } }, { mergeWithLastSubmission: false });
        return;
      }
      if (url.pathname === '/auth' && url.searchParams.has('launch')) {
        launched = true;
      }
      if (url.pathname === '/token' && launched && Object.keys(smartContext).length) {
        // SMART App Launch: the EHR's launch context travels in the token response.
        const write = res.write.bind(res);
        const end = res.end.bind(res);
        const chunks = [];
        res.write = (chunk) => { chunks.push(Buffer.from(chunk)); return true; };
        res.end = (chunk) => {
          if (chunk) chunks.push(Buffer.from(chunk));
          let text = Buffer.concat(chunks).toString('utf8');
          try {
            const body = JSON.parse(text);
            if (body.access_token) text = JSON.stringify({ ...body, ...smartContext });
          } catch { /* not JSON: pass it on */ }
          res.setHeader('Content-Length', Buffer.byteLength(text));
          write(text);
          return end();
        };
      }
      callback(req, res);
    } catch (error) {
      send(res, 400, 'text/plain', `test provider: ${error.message}`);
    }
  });
  process.stdout.write(`${JSON.stringify({ listening: server.address().port })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
