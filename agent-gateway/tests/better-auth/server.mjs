// A real Better Auth server for the gateway's tests: email+password sign-in,
// the JWT plugin (EdDSA keys, /api/auth/jwks, /api/auth/token) and the bearer
// plugin, stored in PostgreSQL. Configured only through environment variables
// (see README.md). Prints exactly one line, `listening on http://127.0.0.1:PORT`,
// once it accepts connections, and exits cleanly on SIGTERM / SIGINT.
import http from "node:http";
import pg from "pg";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { bearer, jwt } from "better-auth/plugins";

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`better-auth test server: environment variable ${name} is required`);
    process.exit(2);
  }
  return value;
}

const port = Number.parseInt(required("PORT"), 10);
const databaseUrl = required("DATABASE_URL");
const secret = required("BETTER_AUTH_SECRET");
const baseURL = process.env.BETTER_AUTH_URL || `http://127.0.0.1:${port}`;
const trustedOrigins = (process.env.TRUSTED_ORIGINS || "")
  .split(",")
  .map((o) => o.trim().replace(/\/+$/, ""))
  .filter(Boolean);

// JWT_EXPIRES_IN: plain seconds ("60") or a jose time span ("15m", "2 hours").
// A bare number given to the plugin would be taken as an absolute `exp`, so
// seconds are turned into a span here. Unset: the plugin's default, 15m.
function jwtExpiration(raw) {
  if (raw === undefined || raw.trim() === "") return undefined;
  const v = raw.trim();
  return /^\d+$/.test(v) ? `${v}s` : v;
}
const expirationTime = jwtExpiration(process.env.JWT_EXPIRES_IN);

const pool = new pg.Pool({ connectionString: databaseUrl, max: 5 });

const options = {
  appName: "todo-gateway-test",
  baseURL,
  secret,
  database: pool,
  trustedOrigins,
  emailAndPassword: {
    enabled: true,
    disableSignUp: false,
    requireEmailVerification: false,
    autoSignIn: true,
  },
  plugins: [
    jwt(expirationTime === undefined ? {} : { jwt: { expirationTime } }),
    bearer(),
  ],
  // Tests sign in many times in a row; never answer them with 429.
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  advanced: {
    // Loopback http: no `Secure` attribute (and no `__Secure-` name prefix),
    // SameSite=Lax. A page on http://127.0.0.1:OTHERPORT is the same site
    // (ports do not count for sites), so Chromium sends these cookies on its
    // fetch(..., {credentials: 'include'}) calls.
    useSecureCookies: false,
    defaultCookieAttributes: { sameSite: "lax", secure: false, path: "/" },
  },
};

const auth = betterAuth(options);

// Create / update Better Auth's tables (user, session, account, verification, jwks).
const { runMigrations } = await getMigrations(options);
await runMigrations();

const authHandler = toNodeHandler(auth);
const trusted = new Set(trustedOrigins);
const ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const ALLOW_HEADERS = "content-type, authorization";
const EXPOSE_HEADERS = "set-auth-token, set-auth-jwt";

function corsHeaders(req, res) {
  const origin = req.headers.origin;
  res.setHeader("Vary", "Origin");
  if (!origin || !trusted.has(origin)) return false;
  res.setHeader("Access-Control-Allow-Origin", origin);
  res.setHeader("Access-Control-Allow-Credentials", "true");
  res.setHeader("Access-Control-Allow-Methods", ALLOW_METHODS);
  res.setHeader("Access-Control-Allow-Headers", ALLOW_HEADERS);
  res.setHeader("Access-Control-Expose-Headers", EXPOSE_HEADERS);
  res.setHeader("Access-Control-Max-Age", "600");
  return true;
}

const server = http.createServer((req, res) => {
  const allowed = corsHeaders(req, res);
  if (allowed) {
    // The bearer and JWT plugins set Access-Control-Expose-Headers to just
    // their own header; keep ours (a superset) for trusted origins.
    const setHeader = res.setHeader.bind(res);
    res.setHeader = (name, value) =>
      String(name).toLowerCase() === "access-control-expose-headers"
        ? setHeader(name, EXPOSE_HEADERS)
        : setHeader(name, value);
  }
  if (req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
    res.writeHead(allowed ? 204 : 403);
    res.end();
    return;
  }
  authHandler(req, res);
});

server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  server.close(() => {
    pool.end().finally(() => process.exit(0));
  });
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
