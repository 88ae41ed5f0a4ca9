// A real OpenID provider for Värn's tests: panva's oidc-provider (OpenID Certified), on
// loopback, on a port the system picks. It prints `listening <port>` when it is ready.
//
// What a test needs beyond the provider itself is on /control (loopback only, test only):
//   PUT    /control/users/<id>   {name, groups, acr, amr}   the account, as the provider signs it in
//   DELETE /control/users/<id>                              the account removed (a leaver)
//   POST   /control/rotate                                  a new signing key (the old one still published)
//   POST   /control/tamper       {mode}                      the next token answer altered:
//          forge (signed by another key, same kid), unknown-kid, nonce, aud, expired,
//          garbage (not JSON), slow (answers after 30 s), redirect (a 307 to `to`),
//          unavailable (503 temporarily_unavailable)
//   GET    /control/last-callback                            the last redirect to the client (code and state)
//   PUT    /control/redirect     {uri}                       the client's redirect URI (known once Värn listens)
//
// The sign-in page (/interaction/<uid>) is a form with one field, the account id; the tests
// fill it in, in Chromium or over HTTP.
//
// Usage: node provider.mjs <client_id> <client_secret>

import http from 'node:http';
import { once } from 'node:events';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const [clientId, clientSecret] = process.argv.slice(2);
let redirectUri = 'http://127.0.0.1/not-yet-set';
if (!clientSecret) {
  console.error('usage: node provider.mjs <client_id> <client_secret>');
  process.exit(2);
}

const users = new Map();
const keys = [];
let provider;
let tamper = null;
let redirectTo = null;
let lastCallback = null;

async function newKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  jwk.kid = `k${keys.length + 1}-${Date.now()}`;
  jwk.alg = 'RS256';
  jwk.use = 'sig';
  return jwk;
}

function page(title, body) {
  return `<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>${title}</title></head>`
    + `<body><h1>${title}</h1>${body}</body></html>`;
}

async function alterToken(body) {
  const mode = tamper;
  tamper = null;
  if (!mode || typeof body !== 'object' || !body.id_token) return body;
  const claims = jose.decodeJwt(body.id_token);
  const header = jose.decodeProtectedHeader(body.id_token);
  let signer = keys[0];
  let kid = header.kid;
  if (mode === 'forge' || mode === 'unknown-kid') {
    signer = await newKey();
    if (mode === 'unknown-kid') kid = signer.kid;
  } else if (mode === 'nonce') {
    claims.nonce = 'not-the-nonce-that-was-sent';
  } else if (mode === 'aud') {
    claims.aud = 'another-client';
  } else if (mode === 'expired') {
    claims.iat = Math.floor(Date.now() / 1000) - 7200;
    claims.exp = Math.floor(Date.now() / 1000) - 3600;
  }
  const key = await jose.importJWK(signer, 'RS256');
  body.id_token = await new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: header.typ, kid })
    .sign(key);
  return body;
}

function makeProvider(port) {
  const issuer = `http://127.0.0.1:${port}`;
  const p = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [...keys] },
    async findAccount(_ctx, id) {
      const user = users.get(id);
      if (!user) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, name: user.name, groups: user.groups };
        },
      };
    },
    claims: { openid: ['sub'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'offline_access', 'profile', 'groups'],
    acrValues: ['urn:varn:test:mfa', 'urn:varn:test:password'],
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    cookies: { keys: ['varn-test-provider-cookie-key'] },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 86400,
      Grant: 86400,
      Session: 86400,
      Interaction: 600,
    },
  });
  p.proxy = false;
  p.use(async (ctx, next) => {
    // Unavailable: the token request is not processed at all.
    if (ctx.path === '/token' && ctx.method === 'POST' && tamper === 'unavailable') {
      tamper = null;
      ctx.status = 503;
      ctx.body = { error: 'temporarily_unavailable', error_description: 'try again later' };
      return;
    }
    await next();
    if (ctx.path === '/token' && ctx.method === 'POST' && tamper) {
      if (tamper === 'garbage') {
        tamper = null;
        ctx.type = 'application/json';
        ctx.body = '<html>not json</html>';
        return;
      }
      if (tamper === 'redirect') {
        tamper = null;
        ctx.status = 307;
        ctx.redirect(redirectTo);
        return;
      }
      if (tamper === 'slow') {
        tamper = null;
        await new Promise((r) => setTimeout(r, 30000));
        return;
      }
      ctx.body = await alterToken(ctx.body);
    }
    const location = ctx.response.get('location');
    if (location && location.startsWith(redirectUri)) lastCallback = location;
  });
  return p;
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  const { prompt, params } = details;
  if (req.method === 'GET' && prompt.name === 'login') {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(page('Testleverantören: logga in', `<form method="post" action="/interaction/${uid}">`
      + '<label>Konto <input id="login" name="login" autofocus></label>'
      + '<button id="sign-in" type="submit">Logga in</button></form>'));
    return;
  }
  let accountId = details.session?.accountId;
  let login;
  if (prompt.name === 'login') {
    const form = new URLSearchParams(await readBody(req));
    accountId = form.get('login');
    const user = users.get(accountId);
    if (!user) {
      res.statusCode = 400;
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(page('Okänt konto', '<p>Kontot finns inte.</p>'));
      return;
    }
    login = { accountId, acr: user.acr, amr: user.amr };
  }
  const grant = new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope));
  const grantId = await grant.save();
  const result = { consent: { grantId } };
  if (login) result.login = login;
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

async function control(req, res, path) {
  const json = (status, value) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(value ?? {}));
  };
  const user = path.match(/^\/control\/users\/([^/]+)$/);
  if (user && req.method === 'PUT') {
    const u = JSON.parse(await readBody(req));
    users.set(decodeURIComponent(user[1]), {
      name: u.name ?? user[1],
      groups: u.groups ?? [],
      acr: u.acr,
      amr: u.amr,
    });
    return json(200);
  }
  if (user && req.method === 'DELETE') {
    users.delete(decodeURIComponent(user[1]));
    return json(200);
  }
  if (path === '/control/rotate' && req.method === 'POST') {
    keys.unshift(await newKey());
    provider = makeProvider(port);
    return json(200, { kid: keys[0].kid });
  }
  if (path === '/control/redirect' && req.method === 'PUT') {
    redirectUri = JSON.parse(await readBody(req)).uri;
    provider = makeProvider(port);
    return json(200);
  }
  if (path === '/control/tamper' && req.method === 'POST') {
    const body = JSON.parse(await readBody(req));
    tamper = body.mode;
    redirectTo = body.to ?? null;
    return json(200);
  }
  if (path === '/control/last-callback' && req.method === 'GET') {
    return json(200, { location: lastCallback });
  }
  return json(404, { error: 'no such control' });
}

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  try {
    if (path.startsWith('/control/')) return await control(req, res, path);
    const m = path.match(/^\/interaction\/([^/]+)$/);
    if (m) return await interaction(req, res, m[1]);
    return provider.callback()(req, res);
  } catch (e) {
    console.error(e);
    if (!res.headersSent) {
      res.statusCode = 500;
      res.end(String(e));
    }
  }
});

keys.push(await newKey());
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const port = server.address().port;
provider = makeProvider(port);
console.log(`listening ${port}`);
