// REST client for /api (docs/protocol.md). Relative URLs: the page is served from the same origin.
import type { Config, Me, Prediction, Session, Ship } from "./types";

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public retryAfter: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Fails with ApiError(status 0, code "network") when the server cannot be reached. */
export async function request<T>(method: string, path: string, opts: { body?: unknown; token?: string | null } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.token) headers["Authorization"] = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  } catch {
    throw new ApiError(0, "network", "cannot reach the server");
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
    const retry = Number(res.headers.get("Retry-After"));
    throw new ApiError(
      res.status,
      err?.code ?? `http_${res.status}`,
      err?.message ?? (res.statusText || `HTTP ${res.status}`),
      Number.isFinite(retry) && retry > 0 ? retry : null,
    );
  }
  return json as T;
}

/** A sentence a player can act on, from an API error. */
export function describeError(e: unknown, context: "login" | "register" | "other" = "other"): string {
  if (!(e instanceof ApiError)) return `Unexpected error: ${String(e)}`;
  const wait = e.retryAfter ? ` Try again in ${e.retryAfter} s.` : " Try again later.";
  switch (e.code) {
    case "network":
      return "Cannot reach the Galaxy server. Check your connection.";
    case "invalid_credentials":
      return "Wrong username or password.";
    case "username_taken":
      return "That username is already taken. Pick another, or log in.";
    case "invalid_argument":
      return context === "register"
        ? `Not accepted: ${e.message}. Usernames are 3–20 letters, digits or _, passwords 8–128 characters.`
        : `Not accepted: ${e.message}.`;
    case "registrations_closed":
      return "Registrations are closed on this server.";
    case "banned":
      return "This account is banned.";
    case "forbidden":
      return `Not allowed: ${e.message}.`;
    case "rate_limited":
      return `Too many requests.${wait}`;
    case "locked_out":
      return `Too many failed logins: this account is locked for a while.${wait}`;
    case "unavailable":
      return `The server is temporarily unavailable.${wait}`;
    case "unauthenticated":
      return "Your session has expired. Please log in again.";
    case "malformed_request":
      return `The server did not understand the request: ${e.message}.`;
    case "payload_too_large":
      return "That input is too long.";
    default:
      return `${e.message} (${e.code}).`;
  }
}

export const api = {
  register: (username: string, password: string) => request<Session>("POST", "/api/auth/register", { body: { username, password } }),
  login: (username: string, password: string) => request<Session>("POST", "/api/auth/login", { body: { username, password } }),
  logout: (token: string) => request<void>("POST", "/api/auth/logout", { token }),
  refresh: (token: string) => request<Session>("POST", "/api/auth/refresh", { token }),
  me: (token: string) => request<Me>("GET", "/api/me", { token }),
  config: () => request<Config>("GET", "/api/config"),
  ship: (token: string, id: string) => request<Ship>("GET", `/api/ships/${encodeURIComponent(id)}`, { token }),
  prediction: (token: string, id: string, horizon: number, samples: number) =>
    request<Prediction>("GET", `/api/ships/${encodeURIComponent(id)}/prediction?horizon=${horizon}&samples=${samples}`, { token }),
  respawn: (token: string, id: string, cls: string) =>
    request<Ship>("POST", `/api/ships/${encodeURIComponent(id)}/respawn`, { token, body: { class: cls } }),
};

// The session survives reloads in localStorage.
const KEY = "galaxy.session";

export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return typeof s?.token === "string" && s.token.length > 0 ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session): void {
  localStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
  localStorage.removeItem(KEY);
}
