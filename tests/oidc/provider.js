// A real OpenID provider (oidc-provider, the certified Node.js implementation) for
// Värna's single sign-on tests, on a free loopback port.
//
// Started by tests/oidc/fixture.py. It prints one JSON line, {"issuer": ...}, when
// ready, and stops when its standard input closes (so it never outlives the tests).
// Environment: OIDC_REDIRECT_URIS (comma-separated callback addresses to register).
//
// Test accounts sign in on a small login form of our own (a scripted interaction:
// login name and password, consent granted at once), so that the tests can drive
// the flow over HTTP from Python or through a browser.

import crypto from "node:crypto";
import http from "node:http";
import process from "node:process";

import Provider from "oidc-provider";

const ACCOUNTS = {
  anna: { password: "anna-password", email: "anna.admin@kommun.example", groups: ["varna-admins", "staff"] },
  hanna: { password: "hanna-password", email: "hanna.hr@kommun.example", groups: ["varna-hr"] },
  bo: { password: "bo-password", email: "bo.board@kommun.example", groups: ["varna-board"] },
  nils: { password: "nils-password", email: "nils@kommun.example", groups: ["staff"] },
  dora: { password: "dora-password", email: "dora.disabled@kommun.example", groups: ["varna-hr"] },
  petra: { password: "petra-password", email: "Petra.Precreated@Kommun.example", groups: [] },
};

const CLIENT_SECRET = "test-client-secret-0123456789abcdef";
const redirectUris = (process.env.OIDC_REDIRECT_URIS || "").split(",").filter(Boolean);

function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid: crypto.randomUUID(), alg: "RS256", use: "sig" };
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid, error) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test IdP</title></head>
<body><main><h1>Test identity provider</h1>${error ? `<p role="alert">${escape(error)}</p>` : ""}
<form method="post" action="/interaction/${escape(uid)}">
<label for="login">Login</label> <input id="login" name="login" autocomplete="username">
<label for="password">Password</label> <input id="password" name="password" type="password">
<button type="submit">Sign in</button></form></main></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

async function interaction(provider, req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === "GET") {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(loginPage(details.uid));
    return;
  }
  const form = await readForm(req);
  const login = form.get("login") || "";
  const account = ACCOUNTS[login];
  if (!account || account.password !== form.get("password")) {
    res.writeHead(401, { "content-type": "text/html; charset=utf-8" });
    res.end(loginPage(uid, "Wrong login or password"));
    return;
  }
  const grant = new provider.Grant({ accountId: login, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: login }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

const server = http.createServer();
server.listen(0, "127.0.0.1", () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const client = (id) => ({
    client_id: id,
    client_secret: CLIENT_SECRET,
    redirect_uris: redirectUris,
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
  });
  const provider = new Provider(issuer, {
    clients: [client("varna"), client("another-app")],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [crypto.randomBytes(32).toString("hex")] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], groups: ["groups"] },
    // Entra ID and most providers put the claims in the ID token itself.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: { IdToken: 3600, AccessToken: 600, AuthorizationCode: 60, Interaction: 600, Session: 600, Grant: 600 },
    findAccount: async (ctx, sub) => {
      const account = ACCOUNTS[sub];
      if (!account) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, email: account.email, email_verified: true, groups: account.groups }),
      };
    },
  });
  const handle = provider.callback();
  server.on("request", (req, res) => {
    const match = req.url.match(/^\/interaction\/([^/?]+)/);
    if (!match) {
      handle(req, res);
      return;
    }
    interaction(provider, req, res, match[1]).catch((error) => {
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8" });
      res.end(String(error));
    });
  });
  process.stdout.write(`${JSON.stringify({ issuer, client_secret: CLIENT_SECRET })}\n`);
});

// The tests hold our standard input open; when it closes, we stop.
process.stdin.on("end", () => process.exit(0));
process.stdin.on("close", () => process.exit(0));
process.stdin.resume();
