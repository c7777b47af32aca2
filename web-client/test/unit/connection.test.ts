import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Connection, type ConnStatus } from "../../src/connection";
import type { ServerMsg } from "../../src/types";

/** A scripted stand-in for the browser's WebSocket. */
class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  static all: FakeSocket[] = [];
  readyState = FakeSocket.CONNECTING;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000, reason = "") {
    this.serverClose(code, reason);
  }
  // Test side:
  serverOpen() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
  serverSend(msg: object) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  serverClose(code: number, reason = "") {
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.({ code, reason });
  }
}

const welcome = { type: "welcome", player: { id: "1", username: "ada", role: "player" }, ship_id: "ship-1", config: {}, bodies: [] };

describe("Connection", () => {
  let statuses: ConnStatus[];
  let messages: ServerMsg[];
  let rejected: number[];
  let conn: Connection;

  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
    vi.stubGlobal("WebSocket", FakeSocket);
    statuses = [];
    messages = [];
    rejected = [];
    conn = new Connection("tok", { message: (m) => messages.push(m), status: (s) => statuses.push(s), authRejected: (c) => rejected.push(c) }, "ws://x/ws");
  });
  afterEach(() => {
    conn.stop();
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("authenticates first, then numbers commands and clears them on ack", () => {
    conn.start();
    const ws = FakeSocket.all[0];
    expect(ws.url).toBe("ws://x/ws");
    expect(conn.send({ type: "control", throttle: 1, pitch: 0, yaw: 0, roll: 0 })).toBeNull(); // not online yet
    ws.serverOpen();
    expect(ws.sent[0]).toEqual({ type: "auth", token: "tok" });
    ws.serverSend(welcome);
    expect(conn.online).toBe(true);
    expect(statuses.at(-1)).toEqual({ kind: "online" });
    const id = conn.send({ type: "attitude_mode", mode: "prograde" })!;
    expect(ws.sent[1]).toEqual({ type: "attitude_mode", mode: "prograde", id });
    expect(conn.pending.has(id)).toBe(true);
    ws.serverSend({ type: "ack", id, command: "attitude_mode" });
    expect(conn.pending.size).toBe(0);
    expect(messages.map((m) => m.type)).toEqual(["welcome", "ack"]);
  });

  it("reconnects with growing backoff after drops and re-authenticates", () => {
    vi.spyOn(Math, "random").mockReturnValue(0.5); // no jitter
    conn.start();
    FakeSocket.all[0].serverClose(1006);
    expect(statuses.at(-1)).toMatchObject({ kind: "waiting", attempt: 1, reason: "connection lost" });
    vi.advanceTimersByTime(499);
    expect(FakeSocket.all.length).toBe(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all.length).toBe(2); // after 0.5 s
    FakeSocket.all[1].serverClose(1006);
    vi.advanceTimersByTime(999);
    expect(FakeSocket.all.length).toBe(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all.length).toBe(3); // after 1 s
    const ws = FakeSocket.all[2];
    ws.serverOpen();
    expect(ws.sent[0]).toEqual({ type: "auth", token: "tok" });
    ws.serverSend(welcome);
    expect(conn.online).toBe(true);
    // The backoff starts over after a good connection.
    ws.serverClose(1001);
    expect(statuses.at(-1)).toMatchObject({ kind: "waiting", reason: "server shutting down" });
    vi.advanceTimersByTime(500);
    expect(FakeSocket.all.length).toBe(4);
  });

  it("hands 4001 and 4008 to the caller instead of retrying", () => {
    conn.start();
    FakeSocket.all[0].serverClose(4001, "bad token");
    expect(rejected).toEqual([4001]);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all.length).toBe(1);
  });

  it("retries after a 4001 when the caller says the token is still good", () => {
    vi.spyOn(Math, "random").mockReturnValue(0.5);
    conn.start();
    FakeSocket.all[0].serverClose(4001, "bad token");
    conn.reconnectNow(); // e.g. GET /api/me answered 200
    expect(statuses.at(-1)).toMatchObject({ kind: "waiting", reason: "re-authenticating" });
    vi.advanceTimersByTime(500);
    expect(FakeSocket.all.length).toBe(2);
  });

  it("stops for good on stop()", () => {
    conn.start();
    conn.stop();
    expect(statuses.at(-1)).toEqual({ kind: "closed", reason: "logged out" });
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all.length).toBe(1);
  });

  it("ignores frames that are not JSON objects with a type", () => {
    conn.start();
    const ws = FakeSocket.all[0];
    ws.serverOpen();
    ws.onmessage?.({ data: "not json" });
    ws.onmessage?.({ data: "[1,2]" });
    ws.serverSend(welcome);
    expect(messages.length).toBe(1);
  });
});
