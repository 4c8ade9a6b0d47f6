// A real OpenID Provider for Beeldbank's single sign-on tests: oidc-provider (a certified
// implementation) with a small configuration. Never part of Beeldbank itself.
//
//   node tests/oidc/provider.mjs CONFIG.json
//
// CONFIG holds {"accounts": {"<sub>": {"password", "email", "name", "groups"}}}. It is read
// again at every login, so a test changes someone's groups between two logins. The
// provider listens on a free 127.0.0.1 port and prints "ready <issuer>" once it serves.
// Clients register themselves (OpenID Connect Dynamic Client Registration, /reg).

import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const configPath = process.argv[2];
const accounts = () => JSON.parse(readFileSync(configPath, 'utf8')).accounts;

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title, body) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>
<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;

const readForm = (req) => new Promise((resolve, reject) => {
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { raw += chunk; });
  req.on('end', () => resolve(new URLSearchParams(raw)));
  req.on('error', reject);
});

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };

let provider;

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt } = details;
  if (prompt.name !== 'login') {
    // Consent is given by loadExistingGrant below; no other prompt is configured.
    await provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
    return;
  }
  if (req.method === 'POST') {
    const form = await readForm(req);
    const login = form.get('login') || '';
    const account = accounts()[login];
    if (account && account.password === form.get('password')) {
      await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
      return;
    }
  }
  const error = req.method === 'POST' ? '<p role="alert">Wrong user name or password.</p>' : '';
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(page('Test identity provider: sign in', `${error}
<form method="post" action="/interaction/${escape(uid)}">
  <p><label for="login">User name</label> <input id="login" name="login" autocomplete="username"></p>
  <p><label for="password">Password</label> <input id="password" name="password" type="password"></p>
  <p><button type="submit">Sign in</button></p>
</form>`));
}

const server = createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.statusCode = 400;
      res.end(page('Interaction failed', `<p>${escape(err.message)}</p>`));
    });
    return;
  }
  provider.callback()(req, res);
});

server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  provider = new Provider(issuer, {
    jwks: { keys: [signingKey] },
    cookies: { keys: ['test-provider-cookie-key-not-a-secret'] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = page('Sign out of the test identity provider?', `${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = page('Signed out', '<p>You are signed out.</p>');
        },
      },
    },
    async findAccount(ctx, sub) {
      const account = accounts()[sub];
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { sub, email: account.email, email_verified: true, name: account.name, groups: account.groups };
        },
      };
    },
    // First-party clients: every requested scope is granted without a consent screen.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
      await grant.save();
      return grant;
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Error', `<p>${escape(out.error)}: ${escape(out.error_description || '')}</p>`);
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  });
  process.stdout.write(`ready ${issuer}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
