// Sign-in through Better Auth itself, when the gateway names it
// (BETTER_AUTH_URL): email and password against Better Auth's API, which
// keeps its session in its own cookie, then a short-lived JWT from its
// `/api/auth/token` for the gateway's API, fetched again before it expires.

/** Seconds before a token's expiry at which a fresh one is fetched (half
 * its lifetime for short-lived ones). */
const REFRESH_MARGIN = 60;

/** The claims of a JWT (its payload, UTF-8 JSON), or null when it is not one. */
export function jwtClaims(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      [...atob(payload)].map((c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""),
    );
    return JSON.parse(json);
  } catch {
    return null;
  }
}

/** The `exp` of a JWT (seconds since the epoch), or null. */
export function tokenExpiry(token) {
  const exp = jwtClaims(token)?.exp;
  return Number.isFinite(exp) ? exp : null;
}

/** Better Auth at `baseUrl`: sign in, get tokens, keep them fresh, sign out. */
export function betterAuth(baseUrl) {
  const url = (path) => `${baseUrl.replace(/\/+$/, "")}/api/auth${path}`;
  let timer = null;

  async function call(path, options = {}) {
    const response = await fetch(url(path), { credentials: "include", ...options });
    let body = null;
    try {
      body = await response.json();
    } catch {
      // no JSON body
    }
    if (!response.ok) {
      const message = (body && body.message) || `The sign-in service answered ${response.status}.`;
      throw new Error(message);
    }
    return body;
  }

  /** A JWT for the gateway, from Better Auth's session. */
  async function token() {
    const body = await call("/token");
    if (!body || typeof body.token !== "string") throw new Error("No token from the sign-in service.");
    return body.token;
  }

  return {
    async signIn(email, password) {
      await call("/sign-in/email", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email, password }),
      });
      return token();
    },

    token,

    /**
     * Fetch a fresh token `REFRESH_MARGIN` seconds before `current` expires
     * (sooner for short-lived ones), hand it to `onToken`, and go on; call
     * `onFailure` when the session is over.
     */
    keepFresh(current, onToken, onFailure) {
      clearTimeout(timer);
      const exp = tokenExpiry(current);
      if (!exp) return;
      const lifetime = exp - Date.now() / 1000;
      const early = lifetime > 2 * REFRESH_MARGIN ? lifetime - REFRESH_MARGIN : lifetime / 2;
      const wait = Math.max(1, early);
      timer = setTimeout(async () => {
        try {
          const fresh = await token();
          onToken(fresh);
          this.keepFresh(fresh, onToken, onFailure);
        } catch {
          onFailure();
        }
      }, wait * 1000);
    },

    /**
     * The page's part: its email and password form, a session Better Auth
     * may already have (another tab, a reload), and tokens kept fresh for as
     * long as that session lasts. `page` has `signIn(token)` (false when
     * the token is unusable), `signOut(reason)` and `setToken(fresh)`.
     */
    wire(saved, page) {
      const $ = (id) => document.getElementById(id);
      const use = (token) => {
        if (!page.signIn(token)) return;
        this.keepFresh(token, page.setToken, () =>
          page.signOut("Your session has ended. Please sign in again."),
        );
      };
      $("auth-form").hidden = false;
      $("auth-form").addEventListener("submit", async (event) => {
        event.preventDefault();
        $("signin-error").textContent = "";
        try {
          use(await this.signIn($("auth-email").value.trim(), $("auth-password").value));
          $("auth-password").value = "";
        } catch (error) {
          $("signin-error").textContent = error.message;
        }
      });
      if (saved) {
        use(saved);
        return;
      }
      page.signOut();
      token().then(use, () => {});
    },

    async signOut() {
      clearTimeout(timer);
      try {
        await call("/sign-out", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: "{}",
        });
      } catch {
        // signed out here anyway
      }
    },
  };
}
