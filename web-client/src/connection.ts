// The WebSocket to /ws: authenticates with the stored token as its first message, reconnects by
// itself with exponential backoff (0.5 s doubling to 15 s, with jitter), numbers commands and
// matches acks/rejections to them.
import type { Command, ServerMsg } from "./types";

export type ConnStatus =
  | { kind: "connecting"; attempt: number }
  | { kind: "online" }
  | { kind: "waiting"; attempt: number; retryAt: number; reason: string }
  | { kind: "closed"; reason: string };

export interface ConnectionEvents {
  message(msg: ServerMsg): void;
  status(s: ConnStatus): void;
  /** The server closed with 4001 (bad/expired token) or 4008 (kicked/banned). */
  authRejected(code: number, reason: string): void;
}

export function wsUrl(loc: Location = location): string {
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/ws`;
}

export function backoffDelay(attempt: number, random = Math.random): number {
  const base = Math.min(15_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + 0.5 * random()));
}

export class Connection {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private nextId = 1;
  private authed = false;
  readonly pending = new Map<number, { command: string; sent: number }>();

  constructor(
    private token: string,
    private events: ConnectionEvents,
    private url = wsUrl(),
  ) {}

  get online(): boolean {
    return this.authed && this.ws?.readyState === WebSocket.OPEN;
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, "bye");
    this.events.status({ kind: "closed", reason: "logged out" });
  }

  /** Whether a command of this type was sent less than `maxAgeMs` ago and is still unanswered. */
  hasPending(command: string, maxAgeMs: number): boolean {
    const t = performance.now();
    for (const p of this.pending.values()) if (p.command === command && t - p.sent < maxAgeMs) return true;
    return false;
  }

  /** Sends a command; returns its id, or null when offline (the command is dropped, not queued). */
  send(cmd: Command): number | null {
    if (!this.online || !this.ws) return null;
    const id = this.nextId++;
    this.pending.set(id, { command: cmd.type, sent: performance.now() });
    this.ws.send(JSON.stringify({ ...cmd, id }));
    return id;
  }

  /**
   * Reconnects: drops an open socket (its close schedules the retry), or, when there is none (after
   * a 4001 that /api/me contradicted), schedules a new attempt with the usual backoff.
   */
  reconnectNow(): void {
    if (this.stopped) return;
    if (this.ws) {
      this.ws.close(4000, "reconnect");
    } else if (!this.timer) {
      this.scheduleRetry("re-authenticating");
    }
  }

  private open(): void {
    if (this.stopped) return;
    this.attempt++;
    this.authed = false;
    this.events.status({ kind: "connecting", attempt: this.attempt });
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this.scheduleRetry(String(e));
      return;
    }
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: this.token }));
    ws.onmessage = (ev) => {
      let msg: ServerMsg;
      try {
        msg = JSON.parse(String(ev.data)) as ServerMsg;
      } catch {
        return;
      }
      if (!msg || typeof msg !== "object" || typeof (msg as { type?: unknown }).type !== "string") return;
      if (msg.type === "welcome") {
        this.authed = true;
        this.attempt = 0;
        this.events.status({ kind: "online" });
      }
      if ((msg.type === "ack" || msg.type === "rejected" || msg.type === "respawned") && typeof msg.id === "number") {
        this.pending.delete(msg.id);
      }
      this.events.message(msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return; // an old socket
      this.ws = null;
      this.authed = false;
      this.pending.clear();
      if (this.stopped) return;
      if (ev.code === 4001 || ev.code === 4008) {
        this.events.authRejected(ev.code, ev.reason);
        return;
      }
      const reason =
        ev.code === 1001 ? "server shutting down" : ev.code === 1006 ? "connection lost" : `closed (${ev.code}${ev.reason ? ": " + ev.reason : ""})`;
      this.scheduleRetry(reason);
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  private scheduleRetry(reason: string): void {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt);
    this.events.status({ kind: "waiting", attempt: this.attempt, retryAt: performance.now() + delay, reason });
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, delay);
  }
}
