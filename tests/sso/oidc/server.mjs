// A real OpenID Connect provider for the tests: panva's certified oidc-provider with its development
// interactions (a login form taking any user name, then a consent screen). Configuration comes as JSON in the
// OIDC_TEST_CONFIG environment variable: {port, clients: [...], accounts: {login: {claims}}}.
// Prints "READY <issuer>" once listening.
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG);
const issuer = `http://127.0.0.1:${config.port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['preferred_username', 'given_name', 'family_name', 'name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
  conformIdTokenClaims: false, // the scopes' claims go into the ID token (as Entra ID and Okta can be set to)
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const account = config.accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
  ttl: { IdToken: 300, AccessToken: 300, Session: 600, Interaction: 600, Grant: 600 },
});
provider.proxy = false;
provider.listen(config.port, '127.0.0.1', () => {
  console.log(`READY ${issuer}`);
});
