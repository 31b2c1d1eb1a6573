// A real OpenID provider for the sign-in tests: npm `oidc-provider` (OpenID Certified), with
// its development interactions (any login name signs in; the password is not checked).
//
// Started by the tests, never by the product. It listens on 127.0.0.1 on a free port and prints
// one line of JSON to stdout: {"issuer": "http://127.0.0.1:PORT"}. Settings from the environment:
//   OIDC_REDIRECT_URIS   comma-separated redirect URIs of the one client, `promgen`
//   OIDC_CLIENT_SECRET   its secret (default `promgen-secret`)
//   OIDC_GROUPS          JSON: login name -> list of group names, sent as the `groups` claim
//   OIDC_GROUPS_FILE     the same JSON in a file, read at every sign-in (tests change it)
//   OIDC_ID_TOKEN_TTL    seconds an ID token lives (default 3600)
//   OIDC_CLOCK_OFFSET    seconds added to the provider's clock (negative: it lives in the past,
//                        so the ID tokens it issues have already expired)
import fs from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const offset = Number(process.env.OIDC_CLOCK_OFFSET || 0);
if (offset) {
  const now = Date.now;
  Date.now = () => now() + offset * 1000;
}
const groups = () => JSON.parse(process.env.OIDC_GROUPS_FILE
  ? fs.readFileSync(process.env.OIDC_GROUPS_FILE, 'utf8')
  : process.env.OIDC_GROUPS || '{}');
const redirects = (process.env.OIDC_REDIRECT_URIS || '').split(',').filter(Boolean);

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'promgen',
      client_secret: process.env.OIDC_CLIENT_SECRET || 'promgen-secret',
      redirect_uris: redirects,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    // Scope claims in the ID token too, as Keycloak, Entra ID and Google send them.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    ttl: { IdToken: Number(process.env.OIDC_ID_TOKEN_TTL || 3600) },
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({
        sub: id,
        preferred_username: id,
        name: `${id[0].toUpperCase()}${id.slice(1)} Example`,
        email: `${id}@example.com`,
        email_verified: true,
        groups: groups()[id] || [],
      }),
    }),
  });
  provider.on('server_error', (_ctx, err) => console.error(err));
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer }));
});
