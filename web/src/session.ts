// The session: the access token lives in memory only; the refresh token is an HttpOnly,
// Secure, SameSite=Strict cookie set by the API (`"session": "cookie"` on login), so script
// on the page can never read it. Reloading the page refreshes once to get a new access token.
import type { User } from "./api/client";

type Tokens = { access_token: string; expires_in: number };
type Listener = () => void;

let accessToken: string | null = null;
let user: User | null = null;
let expired = false;
let refreshing: Promise<string | null> | null = null;
let timer: number | undefined;
const listeners = new Set<Listener>();

function notify() {
  for (const l of listeners) l();
}

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    credentials: "same-origin",
    body: JSON.stringify(body),
  });
}

function schedule(t: Tokens) {
  window.clearTimeout(timer);
  // Refresh a minute before the access token lapses, so requests rarely meet a 401.
  const ms = Math.max(10, t.expires_in - 60) * 1000;
  timer = window.setTimeout(() => void session.refresh(), ms);
}

async function loadMe(token: string): Promise<User | null> {
  const res = await fetch("/v1/me", { headers: { Authorization: `Bearer ${token}` } });
  return res.ok ? ((await res.json()) as User) : null;
}

export const session = {
  accessToken: () => accessToken,
  user: () => user,
  expired: () => expired,

  subscribe(l: Listener): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },

  // begin takes the answer of login or register and makes it the session.
  async begin(t: Tokens, u?: User): Promise<void> {
    accessToken = t.access_token;
    expired = false;
    schedule(t);
    user = u ?? (await loadMe(t.access_token));
    notify();
  },

  // setUser replaces the cached caller (after verifying a channel, say).
  setUser(u: User) {
    user = u;
    notify();
  },

  // refresh trades the cookie for a new access token; concurrent callers share one request,
  // because the refresh token works only once.
  refresh(): Promise<string | null> {
    if (!refreshing) {
      refreshing = (async () => {
        try {
          const res = await post("/v1/auth/refresh", {});
          if (!res.ok) return null;
          const t = (await res.json()) as Tokens;
          accessToken = t.access_token;
          schedule(t);
          if (!user) user = await loadMe(t.access_token);
          notify();
          return accessToken;
        } catch {
          return null;
        } finally {
          refreshing = null;
        }
      })();
    }
    return refreshing;
  },

  // expire ends a session the server no longer honours; the app offers the login page.
  expire() {
    const had = user !== null;
    accessToken = null;
    user = null;
    window.clearTimeout(timer);
    expired = had;
    notify();
  },

  async logout(): Promise<void> {
    try {
      await post("/v1/auth/logout", {});
    } finally {
      accessToken = null;
      user = null;
      expired = false;
      window.clearTimeout(timer);
      notify();
    }
  },
};
