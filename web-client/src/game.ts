// The flight deck: wires the connection, the server states (as interpolated tracks), the HUD, the
// controls and the 3D view together.
import { api, ApiError } from "./api";
import { Connection, type ConnStatus } from "./connection";
import { bindingFor, ROTATION_SIGN, stepThrottle, type Action } from "./controls";
import { fmtAngleDeg, fmtDistance, fmtDuration, fmtMass, fmtPercent, fmtSpeed, modeLabel } from "./format";
import { Hud } from "./hud";
import { Track } from "./math/interp";
import { conicPoints, elementsFromState, type OrbitElements } from "./math/orbit";
import { burnTime, deltaV, thrustAcceleration } from "./math/rocket";
import { dominantBody, soiHierarchy, type MassiveBody, type SoiHierarchy } from "./math/soi";
import { addScaled, dot, isFiniteVec, length, normalize, scale, sub } from "./math/vec";
import { SpaceView, type CameraMode, type ShipView } from "./scene";
import { decodeShips } from "./ships";
import type { AttitudeMode, BodyCatalog, Config, Prediction, RosterMsg, ServerMsg, Session, Ship, ShipSummary, StateMsg, TargetRef, Vec3 } from "./types";

const now = () => performance.now() / 1000;
const LABELLED_SHIPS = 12;
const CAMERA_MODES: CameraMode[] = ["cockpit", "chase", "map"];

type TargetSel = { kind: "body"; name: string } | { kind: "ship"; id: string };

export class Game {
  private hud: Hud;
  private view: SpaceView;
  private conn: Connection;
  private raf = 0;
  private disposed = false;

  private config: Config | null = null;
  private catalog = new Map<string, BodyCatalog>();
  private catalogKey = "";
  private bodyOrder: string[] = [];
  private bodyTracks = new Map<string, Track>();
  private shipTracks = new Map<string, Track>();
  private shipInfo = new Map<string, ShipSummary>();
  /** The latest roster: which ship each row of a state is. */
  private roster: RosterMsg | null = null;
  private ownId: string | null;
  private own: Ship | null = null;
  private ownTrack: Track | null = null;
  private tick: number | null = null;
  private gameTime: number | null = null;
  private lastStateWall: number | null = null;
  private status: ConnStatus = { kind: "connecting", attempt: 1 };
  private soi: SoiHierarchy | null = null;
  private massive: MassiveBody[] = [];
  private orbitLinesAt = -Infinity;

  private throttle = 0;
  private lastControlSent = -Infinity;
  private rotation = { pitch: 0, yaw: 0, roll: 0 };
  private held = new Set<Action>();
  private target: TargetSel | null = null;
  private mapFocus: "ship" | "body" | "sun" | "target" = "ship";
  private prediction: Prediction | null = null;
  private predictionTimer: ReturnType<typeof setInterval> | null = null;
  /** One prediction request at a time: the gateway allows a player two a second. */
  private predictionInFlight = false;
  private predictionError: string | null = null;
  private frames = 0;
  private fpsAt = now();
  private fps = 0;
  private lastShown: { wall: number; body: string; position: Vec3; velocity: Vec3 } | null = null;
  /** Smoothed CPU time of one frame: JS work (tracks, HUD) and the three.js render call. */
  private frameMs = { js: 0, render: 0 };

  constructor(
    private root: HTMLElement,
    private session: Session,
    private onLogout: (reason?: string) => void,
  ) {
    this.ownId = session.ship_id;
    this.hud = new Hud(root, (a, down) => this.action(a, down), () => this.onLogout(), (cls) => this.respawn(cls));
    this.view = new SpaceView(this.hud.viewport);
    this.hud.set("player", session.player.username);
    this.conn = new Connection(session.token, {
      message: (m) => this.onMessage(m),
      status: (s) => this.onStatus(s),
      authRejected: (code) => void this.onAuthRejected(code),
    });
    window.addEventListener("keydown", this.keydown);
    window.addEventListener("keyup", this.keyup);
    window.addEventListener("blur", this.releaseAll);
    this.conn.start();
    this.predictionTimer = setInterval(() => void this.refreshPrediction(), 4000);
    this.loop();
    // Debug/test hook: read-only view of the client's state.
    (window as unknown as { galaxy: unknown }).galaxy = {
      game: this,
      state: () => ({
        tick: this.tick,
        gameTime: this.gameTime,
        ownId: this.ownId,
        throttle: this.throttle,
        camera: this.view.mode,
        online: this.conn.online,
        fps: this.fps,
        frameMs: this.frameMs,
      }),
      /** Other ships as tracked: the roster's name, the newest state's position and status. */
      ships: () =>
        [...this.shipTracks.entries()].map(([id, t]) => ({ id, name: this.shipInfo.get(id)?.name ?? null, status: this.shipInfo.get(id)?.status ?? null, position: t.newest?.position ?? null })),
      /** What the last frame showed: your ship relative to its dominant body (m, m/s), and when. */
      shown: () => this.lastShown,
      /** Your ship's model on the canvas (CSS px) in the chase view, or null. */
      ownShipRect: () => this.view.ownShipScreenRect(),
      /** Light on your ship: the share of the Sun's disc it sees, planetshine (fraction of sunlight). */
      light: () => ({ sunlit: this.view.ownSunlight, planetshine: this.view.planetshine }),
      /** Leaves your ship out of the chase view (true) or puts it back (false). */
      hideOwnShip: (hide: boolean) => void (this.view.hideOwnShip = hide),
      /** The camera's forward/right/up (world, unit), and where a world direction lands on the canvas. */
      cameraAxes: () => this.view.cameraAxes(),
      project: (dir: Vec3) => this.view.projectDirection(dir),
    };
  }

  dispose(): void {
    this.disposed = true;
    cancelAnimationFrame(this.raf);
    if (this.predictionTimer) clearInterval(this.predictionTimer);
    window.removeEventListener("keydown", this.keydown);
    window.removeEventListener("keyup", this.keyup);
    window.removeEventListener("blur", this.releaseAll);
    this.conn.stop();
    this.view.dispose();
    this.hud.dispose();
  }

  // ---- server messages -------------------------------------------------------------------

  private onStatus(s: ConnStatus): void {
    this.status = s;
    if (s.kind === "online") {
      this.hud.setBanner(null);
      this.hud.toast("Connected", "ok");
    }
  }

  private async onAuthRejected(code: number): Promise<void> {
    if (code === 4008) {
      this.onLogout("You were disconnected by an admin (kicked or banned).");
      return;
    }
    // 4001: a bad or expired token — confirm with /api/me before giving up the session.
    try {
      await api.me(this.session.token);
      this.conn.reconnectNow();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) this.onLogout("Your session has expired. Please log in again.");
      else this.conn.reconnectNow();
    }
  }

  private onMessage(m: ServerMsg): void {
    try {
      this.handle(m);
    } catch (e) {
      // A message we cannot use must not take the flight deck down.
      console.warn("ignored a server message", m.type, e);
    }
  }

  private handle(m: ServerMsg): void {
    switch (m.type) {
      case "welcome":
        this.config = m.config ?? null;
        this.ownId = m.ship_id ?? this.ownId;
        this.setCatalog(Array.isArray(m.bodies) ? m.bodies : []);
        this.hud.setShipClasses(m.config?.ship_classes ?? []);
        this.hud.set("player", m.player.username);
        for (const t of [...this.bodyTracks.values(), ...this.shipTracks.values(), ...(this.ownTrack ? [this.ownTrack] : [])])
          Object.assign(t.options, this.trackOptions());
        void this.refreshPrediction();
        break;
      case "roster":
        this.roster = m;
        break;
      case "state":
        this.onState(m);
        break;
      case "ack":
        // Unobtrusive: the top bar shows the last answer; only mode changes get a toast.
        this.hud.set("cmd", `✓ ${m.command}${m.id !== undefined ? ` #${m.id}` : ""}`, "ok");
        if (m.command !== "control") this.hud.toast(`✓ ${m.command.replace("_", " ")}`, "ok");
        break;
      case "rejected":
        this.hud.set("cmd", `✗ ${m.command}${m.id !== undefined ? ` #${m.id}` : ""}`, "bad");
        this.hud.toast(`✗ ${m.command.replace("_", " ")}: ${m.reason || m.code}`, "bad");
        break;
      case "error":
        this.hud.toast(`Server: ${m.message || m.code}`, "bad");
        break;
      case "respawned":
        this.ownId = m.ship_id;
        this.own = null;
        this.ownTrack = null;
        this.prediction = null;
        this.view.setPrediction(null, null);
        this.throttle = 0;
        this.hud.toast(`New ship ${m.ship_id}`, "ok");
        this.session.ship_id = m.ship_id;
        void this.refreshPrediction();
        break;
    }
  }

  private trackOptions() {
    const rate = this.config?.tick_rate_hz && this.config.tick_rate_hz > 0 ? this.config.tick_rate_hz : 1;
    const timeScale = this.config?.time_scale && this.config.time_scale > 0 ? this.config.time_scale : 1;
    return {
      blend: Math.min(0.6, 0.8 / rate),
      timeScale,
      maxExtrapolation: (3 / rate) * timeScale,
      snapDistance: 2e5,
    };
  }

  private setCatalog(bodies: BodyCatalog[]): void {
    // After a reconnect the same catalog comes again: keep the scene (no texture rebuild hitch).
    const key = JSON.stringify(bodies.map((b) => [b.name, b.kind, b.radius, b.color, b.gm]));
    if (key === this.catalogKey) return;
    this.catalogKey = key;
    this.catalog.clear();
    for (const b of bodies) this.catalog.set(b.name, b);
    this.bodyOrder = bodies.map((b) => b.name);
    this.view.setCatalog(bodies);
    this.orbitLinesAt = -Infinity;
    const wall = now();
    for (const b of bodies) {
      if (!this.bodyTracks.has(b.name)) {
        const t = new Track(this.trackOptions());
        t.push({ gameTime: 0, position: b.position, velocity: b.velocity }, wall);
        this.bodyTracks.set(b.name, t);
      }
    }
  }

  private onState(m: StateMsg): void {
    const wall = now();
    if (!Number.isFinite(m.game_time) || !Array.isArray(m.bodies) || !Array.isArray(m.ships)) return;
    // Anything with a non-finite vector is left out rather than poisoning the tracks.
    const okShip = (s: ShipSummary | null | undefined): s is ShipSummary =>
      !!s && typeof s.id === "string" && isFiniteVec(s.position) && isFiniteVec(s.velocity) && Array.isArray(s.attitude) && s.attitude.every(Number.isFinite);
    // Rows that follow no roster we hold cannot be named: the other ships keep their tracks until
    // a state that can be read (the gateway sends the roster first, so this is a server fault).
    const ships = decodeShips(this.roster, m)?.filter(okShip) ?? null;
    if (!ships) console.warn(`state ${m.tick} follows roster ${m.roster}, not ours (${this.roster?.version ?? "none"})`);
    m = { ...m, bodies: m.bodies.filter((b) => b && isFiniteVec(b.position) && isFiniteVec(b.velocity)), own_ship: okShip(m.own_ship) ? m.own_ship : null };
    this.tick = m.tick;
    this.gameTime = m.game_time;
    this.lastStateWall = wall;
    for (const b of m.bodies) {
      let t = this.bodyTracks.get(b.name);
      if (!t) {
        t = new Track(this.trackOptions());
        this.bodyTracks.set(b.name, t);
      }
      t.push({ gameTime: m.game_time, position: b.position, velocity: b.velocity }, wall);
    }
    // Sphere-of-influence hierarchy at the newest positions.
    this.massive = this.bodyOrder
      .map((name) => ({ name, gm: this.catalog.get(name)?.gm ?? 0, position: this.bodyTracks.get(name)?.newest?.position }))
      .filter((b): b is MassiveBody => !!b.position);
    this.soi = soiHierarchy(this.massive);

    if (ships) {
      const seen = new Set<string>();
      for (const s of ships) {
        if (s.id === this.ownId) continue;
        seen.add(s.id);
        this.shipInfo.set(s.id, s);
        let t = this.shipTracks.get(s.id);
        if (!t) {
          t = new Track(this.trackOptions());
          this.shipTracks.set(s.id, t);
        }
        t.push({ gameTime: m.game_time, position: s.position, velocity: s.velocity, attitude: s.attitude }, wall);
      }
      for (const id of [...this.shipTracks.keys()]) {
        if (!seen.has(id)) {
          this.shipTracks.delete(id);
          this.shipInfo.delete(id);
        }
      }
      if (this.target?.kind === "ship" && !seen.has(this.target.id)) this.target = null;
    }

    if (m.own_ship) {
      if (m.own_ship.id !== this.ownId || !this.ownTrack) {
        this.ownId = m.own_ship.id;
        this.ownTrack = new Track(this.trackOptions());
      }
      this.own = m.own_ship;
      this.ownTrack.push(
        {
          gameTime: m.game_time,
          position: m.own_ship.position,
          velocity: m.own_ship.velocity,
          attitude: m.own_ship.attitude,
          angularVelocity: m.own_ship.angular_velocity,
        },
        wall,
      );
      // Follow the server's throttle unless we changed it a moment ago (the command applies next tick).
      const settle = (2.5 / (this.config?.tick_rate_hz || 1));
      if (wall - this.lastControlSent > settle && !this.conn.hasPending("control", 5000)) {
        this.throttle = m.own_ship.control?.throttle ?? m.own_ship.throttle;
      }
      if (!this.target && m.own_ship.target) this.target = refToSel(m.own_ship.target);
    } else {
      this.own = null;
      this.ownTrack = null;
    }
    if (wall - this.orbitLinesAt > 30) this.updateOrbitLines();
    // After a failed request the 4 s timer retries, not every state message.
    if (!this.prediction && this.own && !this.predictionError) void this.refreshPrediction();
  }

  private updateOrbitLines(): void {
    if (!this.soi) return;
    this.orbitLinesAt = now();
    const lines: { name: string; parent: string; points: Vec3[]; color: number }[] = [];
    this.massive.forEach((b, i) => {
      const parentIdx = this.soi!.parent[i];
      if (parentIdx === null) return;
      const parent = this.massive[parentIdx];
      const mine = this.bodyTracks.get(b.name)?.newest;
      const theirs = this.bodyTracks.get(parent.name)?.newest;
      if (!mine || !theirs) return;
      const el = elementsFromState(sub(mine.position, theirs.position), sub(mine.velocity, theirs.velocity), parent.gm + b.gm);
      if (!el || el.eccentricity >= 1) return;
      const pts = conicPoints(el, 360);
      if (pts) lines.push({ name: b.name, parent: parent.name, points: pts, color: this.catalog.get(b.name)?.color ?? 0x888888 });
    });
    this.view.setOrbitLines(lines);
  }

  private async refreshPrediction(): Promise<void> {
    if (!this.ownId || this.disposed || !this.conn.online || this.predictionInFlight) return;
    this.predictionInFlight = true;
    const el = this.ownElements();
    const horizon = el?.period ? Math.min(Math.max(el.period * 1.02, 600), 6 * 3600) : 5400;
    try {
      const p = await api.prediction(this.session.token, this.ownId, Math.round(horizon), 180);
      if (this.disposed) return;
      this.prediction = p;
      this.predictionError = null;
      this.view.setPrediction(p.reference_body, p.points.map((q) => q.relative_position));
    } catch (e) {
      this.predictionError = e instanceof ApiError ? e.code : "error";
    } finally {
      this.predictionInFlight = false;
    }
  }

  // ---- controls ---------------------------------------------------------------------------

  private keydown = (e: KeyboardEvent) => {
    const tag = (e.target as HTMLElement | null)?.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA") return;
    if (e.key === "Escape") {
      this.hud.help.hidden = true;
      this.hud.respawnDialog.hidden = true;
      return;
    }
    if (!this.hud.respawnDialog.hidden && /^Digit[1-9]$/.test(e.code)) {
      const cls = this.config?.ship_classes[Number(e.code.slice(5)) - 1];
      if (cls) {
        this.hud.respawnDialog.hidden = true;
        this.respawn(cls);
      }
      return;
    }
    const b = bindingFor(e);
    if (!b) return;
    e.preventDefault();
    if (e.repeat && (b.hold || b.action.startsWith("mode_") || b.action === "help" || b.action === "respawn")) return;
    this.action(b.action, true);
  };

  private keyup = (e: KeyboardEvent) => {
    const b = bindingFor({ ...e, shiftKey: e.shiftKey, ctrlKey: false, altKey: false, metaKey: false, code: e.code, key: e.key });
    if (b?.hold) this.action(b.action, false);
  };

  private releaseAll = () => {
    for (const a of [...this.held]) this.action(a, false);
  };

  private action(a: Action, down: boolean): void {
    const rot: Partial<Record<Action, ["pitch" | "yaw" | "roll", number]>> = {
      pitch_up: ["pitch", ROTATION_SIGN.pitchUp],
      pitch_down: ["pitch", -ROTATION_SIGN.pitchUp],
      yaw_left: ["yaw", ROTATION_SIGN.yawLeft],
      yaw_right: ["yaw", -ROTATION_SIGN.yawLeft],
      roll_left: ["roll", ROTATION_SIGN.rollLeft],
      roll_right: ["roll", -ROTATION_SIGN.rollLeft],
    };
    const r = rot[a];
    if (r) {
      if (down === this.held.has(a)) return;
      if (down) this.held.add(a);
      else this.held.delete(a);
      this.hud.setActive(a, down);
      const [axis] = r;
      let v = 0;
      for (const h of this.held) if (rot[h]?.[0] === axis) v += rot[h]![1];
      this.rotation[axis] = Math.max(-1, Math.min(1, v));
      this.sendControl();
      return;
    }
    if (!down) return;
    const modes: Partial<Record<Action, AttitudeMode>> = {
      mode_prograde: "prograde",
      mode_retrograde: "retrograde",
      mode_normal: "normal",
      mode_antinormal: "antinormal",
      mode_radial_out: "radial_out",
      mode_radial_in: "radial_in",
      mode_hold: "hold",
    };
    const mode = modes[a];
    if (mode) {
      this.send({ type: "attitude_mode", mode }, `Attitude: ${modeLabel(mode)}`);
      return;
    }
    switch (a) {
      case "throttle_up":
      case "throttle_down":
        this.throttle = stepThrottle(this.throttle, a === "throttle_up" ? 1 : -1);
        this.sendControl();
        break;
      case "throttle_full":
        this.throttle = 1;
        this.sendControl();
        break;
      case "throttle_cut":
        this.throttle = 0;
        this.sendControl();
        break;
      case "mode_target": {
        if (!this.target) this.cycleTarget(1);
        const t = this.target;
        if (t) this.send({ type: "attitude_mode", mode: "target", target: selToRef(t) }, "Attitude: TARGET");
        else this.hud.toast("No target to point at", "bad");
        break;
      }
      case "next_target":
      case "prev_target":
        this.cycleTarget(a === "next_target" ? 1 : -1);
        if (this.target && this.own?.attitude_mode === "target")
          this.send({ type: "attitude_mode", mode: "target", target: selToRef(this.target) });
        break;
      case "camera_cycle":
        this.view.mode = CAMERA_MODES[(CAMERA_MODES.indexOf(this.view.mode) + 1) % CAMERA_MODES.length];
        break;
      case "map_toggle":
        this.view.mode = this.view.mode === "map" ? "chase" : "map";
        break;
      case "map_focus": {
        const order: (typeof this.mapFocus)[] = ["ship", "body", "sun", "target"];
        this.mapFocus = order[(order.indexOf(this.mapFocus) + 1) % order.length];
        if (this.view.mode !== "map") this.view.mode = "map";
        this.view.map.distance = this.mapDistanceFor(this.mapFocus);
        this.hud.toast(`Map focus: ${this.mapFocus}`, "info");
        break;
      }
      case "sizes_toggle":
        this.view.exaggerate = !this.view.exaggerate;
        this.hud.setActive("sizes_toggle", this.view.exaggerate);
        this.hud.toast(this.view.exaggerate ? "Exaggerated body sizes" : "True body sizes", "info");
        break;
      case "respawn":
        this.hud.respawnDialog.hidden = !this.hud.respawnDialog.hidden;
        break;
      case "help":
        this.hud.help.hidden = !this.hud.help.hidden;
        break;
    }
  }

  private send(cmd: Parameters<Connection["send"]>[0], what?: string): void {
    const id = this.conn.send(cmd);
    if (id === null) this.hud.toast(`Offline — ${what ?? cmd.type} not sent`, "bad");
  }

  private sendControl(): void {
    this.lastControlSent = now();
    this.send({ type: "control", throttle: Math.round(this.throttle * 100) / 100, ...this.rotation }, "control");
  }

  private respawn(cls: string): void {
    this.send({ type: "respawn", class: cls }, "respawn");
  }

  /** A map zoom that frames the focus: your orbit, the body, the whole system, or the target. */
  private mapDistanceFor(focus: typeof this.mapFocus): number {
    const el = this.ownElements();
    const orbit = el ? (el.apoapsis ?? el.radius * 2) : 2e7;
    switch (focus) {
      case "ship":
      case "body":
        return Math.max(2e7, 3.5 * orbit);
      case "sun": {
        // Out to the farthest body.
        const sun = this.massive[this.soi?.byMass[0] ?? 0]?.position ?? [0, 0, 0];
        const far = Math.max(1e11, ...this.massive.map((b) => length(sub(b.position, sun))));
        return 2.2 * far;
      }
      case "target": {
        const t = this.target;
        if (t?.kind === "body") return Math.max(1e6, 8 * (this.catalog.get(t.name)?.radius ?? 1e6));
        return 2e4;
      }
    }
  }

  private targetList(): TargetSel[] {
    const here = this.ownTrack?.newest?.position;
    const dist = (p: Vec3 | undefined) => (here && p ? length(sub(p, here)) : Infinity);
    const bodies = this.bodyOrder.map((name) => ({ sel: { kind: "body", name } as TargetSel, d: dist(this.bodyTracks.get(name)?.newest?.position) }));
    const ships = [...this.shipTracks.entries()].map(([id, t]) => ({ sel: { kind: "ship", id } as TargetSel, d: dist(t.newest?.position) }));
    return [...bodies, ...ships].sort((a, b) => a.d - b.d).map((x) => x.sel);
  }

  private cycleTarget(dir: 1 | -1): void {
    const list = this.targetList();
    if (!list.length) return;
    const i = this.target ? list.findIndex((t) => sameSel(t, this.target!)) : -1;
    this.target = list[(i + dir + list.length) % list.length];
    this.hud.toast(`Target: ${this.targetName(this.target)}`, "info");
  }

  private targetName(t: TargetSel): string {
    return t.kind === "body" ? t.name : (this.shipInfo.get(t.id)?.name ?? t.id);
  }

  // ---- per frame --------------------------------------------------------------------------

  private ownElements(): (OrbitElements & { body: string }) | null {
    if (!this.ownTrack?.newest || !this.soi) return null;
    const s = this.ownTrack.newest;
    const i = dominantBody(this.soi, this.massive, s.position);
    if (i === null) return null;
    const b = this.massive[i];
    const bs = this.bodyTracks.get(b.name)?.newest;
    if (!bs) return null;
    const el = elementsFromState(sub(s.position, bs.position), sub(s.velocity, bs.velocity), b.gm);
    return el ? { ...el, body: b.name } : null;
  }

  private loop = () => {
    if (this.disposed) return;
    this.raf = requestAnimationFrame(this.loop);
    try {
      this.frame();
    } catch (e) {
      console.warn("frame failed", e);
    }
  };

  private frame(): void {
    const wall = now();
    this.frames++;
    if (wall - this.fpsAt >= 1) {
      this.fps = this.frames / (wall - this.fpsAt);
      this.frames = 0;
      this.fpsAt = wall;
    }
    const bodies = new Map<string, Vec3>();
    const bodyVel = new Map<string, Vec3>();
    for (const [name, t] of this.bodyTracks) {
      if (!t.hasState) continue;
      const s = t.at(wall);
      bodies.set(name, s.position);
      bodyVel.set(name, s.velocity);
    }
    const own = this.ownTrack?.hasState ? this.ownTrack.at(wall) : null;
    const ownPos = own?.position ?? bodies.get(this.config?.spawn_body ?? "Earth") ?? [0, 0, 0];

    // Other ships: the nearest few get name labels, the target always does.
    const ships: ShipView[] = [];
    for (const [id, t] of this.shipTracks) {
      const s = t.at(wall);
      const info = this.shipInfo.get(id)!;
      ships.push({
        id,
        name: info?.name ?? id,
        position: s.position,
        attitude: s.attitude,
        throttle: info?.throttle ?? 0,
        label: false,
        target: this.target?.kind === "ship" && this.target.id === id,
      });
    }
    // Declutter: skip a label whose direction is within ~1.5° of a nearer labelled ship.
    const labelled: Vec3[] = [];
    for (const x of ships.map((s) => ({ s, d: length(sub(s.position, ownPos)) })).sort((a, b) => a.d - b.d)) {
      if (labelled.length >= LABELLED_SHIPS) break;
      const dir = normalize(sub(x.s.position, ownPos));
      if (labelled.some((u) => dot(u, dir) > 0.99966)) continue;
      labelled.push(dir);
      x.s.label = true;
    }

    // Map focus.
    let focus = ownPos;
    const el = this.ownElements();
    if (this.mapFocus === "body" && el) focus = bodies.get(el.body) ?? focus;
    if (this.mapFocus === "sun") focus = bodies.get(this.massive[this.soi?.byMass[0] ?? 0]?.name ?? "Sun") ?? focus;
    if (this.mapFocus === "target" && this.target) focus = this.targetPos(this.target, bodies, wall) ?? focus;

    const origin = this.view.mode === "map" ? focus : ownPos;
    const t0 = performance.now();
    if (this.root.dataset.camera !== this.view.mode) this.root.dataset.camera = this.view.mode;
    this.view.render({
      origin,
      own: own && this.own ? { position: own.position, attitude: own.attitude, throttle: this.own.throttle } : null,
      bodies,
      ships,
      mapFocus: focus,
      targetBody: this.target?.kind === "body" ? this.target.name : null,
      predictionLead: this.view.mode === "cockpit" ? null : this.predictionLead(wall, own?.position ?? null, own?.velocity ?? null, bodies, bodyVel),
    });
    if (own && el) {
      const bp = bodies.get(el.body);
      const bv = bodyVel.get(el.body);
      if (bp && bv) this.lastShown = { wall, body: el.body, position: sub(own.position, bp), velocity: sub(own.velocity, bv) };
    }
    const t1 = performance.now();
    this.updateHud(wall, own?.position ?? null, own?.velocity ?? null, bodies, bodyVel, el);
    const t2 = performance.now();
    this.frameMs.render += 0.1 * (t1 - t0 - this.frameMs.render);
    this.frameMs.js += 0.1 * (t2 - t1 + (t0 - wall * 1000) - this.frameMs.js);
  }

  /** The game time now, extrapolated from the newest state. */
  private gameNow(wall = now()): number | null {
    if (this.gameTime === null || this.lastStateWall === null) return null;
    const ts = this.config?.time_scale && this.config.time_scale > 0 ? this.config.time_scale : 1;
    return this.gameTime + Math.min(wall - this.lastStateWall, 3 / (this.config?.tick_rate_hz || 1)) * ts;
  }

  /**
   * The path from where your ship is shown to the server's first predicted point still ahead:
   * two-body (leapfrog) around the prediction's reference body, so the line leaves the ship on
   * its arc instead of as a long chord.
   */
  private predictionLead(wall: number, pos: Vec3 | null, vel: Vec3 | null, bodies: Map<string, Vec3>, bodyVel: Map<string, Vec3>) {
    const p = this.prediction;
    const t0 = this.gameNow(wall);
    if (!p || !pos || !vel || t0 === null) return null;
    const bp = bodies.get(p.reference_body);
    const bv = bodyVel.get(p.reference_body);
    const gm = this.catalog.get(p.reference_body)?.gm;
    if (!bp || !bv || !gm) return null;
    // Point times are absolute game time (the first point is the ship when the server predicted).
    const from = p.points.findIndex((q) => q.time > t0);
    if (from < 0) return { points: [], from: p.points.length };
    const span = p.points[from].time - t0;
    const steps = 24;
    const substeps = 4;
    const h = span / (steps * substeps);
    let r = sub(pos, bp);
    let v = sub(vel, bv);
    const acc = (x: Vec3): Vec3 => scale(x, -gm / Math.pow(length(x), 3));
    const points: Vec3[] = [];
    for (let i = 0; i < steps; i++) {
      for (let j = 0; j < substeps; j++) {
        const vh = addScaled(v, acc(r), h / 2);
        r = addScaled(r, vh, h);
        v = addScaled(vh, acc(r), h / 2);
      }
      points.push(r);
    }
    return { points, from };
  }

  private targetPos(t: TargetSel, bodies: Map<string, Vec3>, wall: number): Vec3 | null {
    if (t.kind === "body") return bodies.get(t.name) ?? null;
    return this.shipTracks.get(t.id)?.at(wall).position ?? null;
  }

  private updateHud(
    wall: number,
    pos: Vec3 | null,
    vel: Vec3 | null,
    bodies: Map<string, Vec3>,
    bodyVel: Map<string, Vec3>,
    el: (OrbitElements & { body: string }) | null,
  ): void {
    const hud = this.hud;
    // Connection.
    const st = this.status;
    if (st.kind === "online") hud.set("conn", "● ONLINE", "ok");
    else if (st.kind === "connecting") hud.set("conn", st.attempt > 1 ? `◌ RECONNECTING (try ${st.attempt})` : "◌ CONNECTING", "warn");
    else if (st.kind === "waiting") {
      const secs = Math.max(0, (st.retryAt - performance.now()) / 1000);
      hud.set("conn", `✕ OFFLINE — retry in ${secs.toFixed(1)} s`, "bad");
    } else hud.set("conn", "✕ CLOSED", "bad");
    if (st.kind === "waiting") {
      const secs = (st.retryAt - performance.now()) / 1000;
      const why = st.reason === "connection lost" ? "Connection lost" : `Connection lost: ${st.reason}`;
      hud.setBanner(secs > 0.05 ? `${why} — reconnecting in ${secs.toFixed(1)} s` : `${why} — reconnecting…`);
    } else if (st.kind === "connecting" && st.attempt > 1) hud.setBanner(`Connection lost — reconnecting… (attempt ${st.attempt})`);

    hud.set("tick", this.tick === null ? "—" : String(this.tick));
    hud.set("game_time", fmtDuration(this.gameTime));
    const age = this.lastStateWall === null ? null : wall - this.lastStateWall;
    const expected = 1 / (this.config?.tick_rate_hz || 1);
    hud.set("state_age", age === null ? "—" : `${age.toFixed(1)} s`, age === null ? "dim" : age > 3 * expected + 1 ? "bad" : age > 1.5 * expected ? "warn" : "ok");
    hud.set("camera", `${this.view.mode.toUpperCase()}${this.view.exaggerate ? " · BIG" : ""}  ${this.fps.toFixed(0)} FPS`);

    // Orbit.
    const own = this.own;
    if (pos && vel && el) {
      const b = this.catalog.get(el.body);
      const bp = bodies.get(el.body)!;
      const bv = bodyVel.get(el.body)!;
      const r = sub(pos, bp);
      const v = sub(vel, bv);
      const radius = b?.radius ?? 0;
      const dist = length(r);
      hud.set("body", el.body);
      hud.set("altitude", fmtDistance(dist - radius), dist - radius < 0 ? "bad" : "");
      hud.set("speed", fmtSpeed(length(v)));
      hud.set("vspeed", fmtSpeed(dot(v, normalize(r))));
      hud.set("apoapsis", el.apoapsis === null ? "escape" : fmtDistance(el.apoapsis - radius), el.apoapsis === null ? "warn" : "");
      hud.set("periapsis", fmtDistance(el.periapsis - radius), el.periapsis < radius ? "bad" : "");
      hud.set("period", el.period === null ? "—" : fmtDuration(el.period));
      hud.set("inclination", fmtAngleDeg(el.inclination));
      hud.set("eccentricity", el.eccentricity.toFixed(4));
      const p = this.prediction;
      hud.set("prediction", p ? `${p.points.length} pts / ${p.reference_body}` : this.predictionError ? `unavailable (${this.predictionError})` : "—", p ? "" : "dim");
    } else {
      for (const k of ["body", "altitude", "speed", "vspeed", "apoapsis", "periapsis", "period", "inclination", "eccentricity"]) hud.set(k, "—", "dim");
    }

    // Ship.
    if (own) {
      hud.set("ship_name", `${own.name} · ${own.class.replace(/_/g, " ")}`);
      hud.set("ship_status", own.status.toUpperCase() + (own.surface_body ? ` on ${own.surface_body}` : ""), own.status === "crashed" ? "bad" : own.status === "landed" ? "warn" : "ok");
      hud.set("attitude_mode", modeLabel(String(own.attitude_mode)) + (own.attitude_mode === "target" && own.target ? ` → ${refName(own.target, this.shipInfo)}` : ""));
      const serverThrottle = own.throttle;
      const pendingThrottle = Math.abs(serverThrottle - this.throttle) > 0.001;
      hud.set("throttle", `${fmtPercent(this.throttle)}${pendingThrottle ? ` (ship ${fmtPercent(serverThrottle)})` : ""}`, this.throttle > 0 ? "warn" : "");
      this.hud.throttleFill.style.width = `${(this.throttle * 100).toFixed(1)}%`;
      const frac = own.fuel_capacity > 0 ? own.fuel / own.fuel_capacity : 0;
      hud.set("fuel", `${fmtMass(own.fuel)} (${fmtPercent(frac)})`, frac < 0.1 ? "bad" : frac < 0.25 ? "warn" : "");
      this.hud.fuelFill.style.width = `${(frac * 100).toFixed(1)}%`;
      hud.set("delta_v", fmtSpeed(deltaV(own.fuel, own.dry_mass, own.exhaust_velocity)));
      const acc = thrustAcceleration(own.max_thrust, this.throttle, own.dry_mass, own.fuel);
      hud.set("accel", `${acc.toFixed(2)} m/s² (${(acc / 9.80665).toFixed(2)} g)`);
      const bt = burnTime(own.fuel, own.max_thrust, own.exhaust_velocity, this.throttle);
      hud.set("burn_time", Number.isFinite(bt) ? fmtDuration(bt) : "—");
    } else {
      hud.set("ship_name", this.ownId ? "waiting for state…" : "no ship — press N to respawn", "dim");
      for (const k of ["ship_status", "attitude_mode", "throttle", "fuel", "delta_v", "accel", "burn_time"]) hud.set(k, "—", "dim");
    }

    // Target.
    const t = this.target;
    const tp = t ? this.targetPos(t, bodies, wall) : null;
    if (t && tp && pos && vel) {
      const tv = t.kind === "body" ? bodyVel.get(t.name)! : this.shipTracks.get(t.id)!.at(wall).velocity;
      const r = sub(tp, pos);
      const rv = sub(tv, vel);
      const d = length(r);
      const surface = t.kind === "body" ? (this.catalog.get(t.name)?.radius ?? 0) : 0;
      hud.set("target_name", `${t.kind === "body" ? "◉" : "▲"} ${this.targetName(t)}`);
      hud.set("target_distance", fmtDistance(d - surface) + (surface ? " (surface)" : ""));
      const closing = -dot(r, rv) / Math.max(d, 1e-9);
      hud.set("target_closing", fmtSpeed(closing), closing > 0 ? "warn" : "");
      hud.set("target_relvel", fmtSpeed(length(rv)));
    } else {
      hud.set("target_name", "none — Tab to pick", "dim");
      for (const k of ["target_distance", "target_closing", "target_relvel"]) hud.set(k, "—", "dim");
    }

    // Markers in the 3D view (prograde/retrograde relative to the dominant body, target).
    const showMarkers = this.view.mode !== "map" && pos && vel && el;
    if (showMarkers) {
      const v = normalize(sub(vel, bodyVel.get(el.body)!));
      hud.placeMarker(hud.markers.prograde, this.view.projectDirection(v));
      hud.placeMarker(hud.markers.retrograde, this.view.projectDirection(scale(v, -1)));
      hud.placeMarker(hud.markers.target, tp ? this.view.projectDirection(normalize(sub(tp, pos))) : null);
    } else {
      for (const m of Object.values(hud.markers)) hud.placeMarker(m, null);
    }
  }
}

function selToRef(t: TargetSel): TargetRef {
  return t.kind === "body" ? { body: t.name } : { ship: t.id };
}
function refToSel(r: TargetRef): TargetSel {
  return "body" in r ? { kind: "body", name: r.body } : { kind: "ship", id: r.ship };
}
function sameSel(a: TargetSel, b: TargetSel): boolean {
  return a.kind === b.kind && (a.kind === "body" ? a.name === (b as { name: string }).name : a.id === (b as { id: string }).id);
}
function refName(r: TargetRef, ships: Map<string, ShipSummary>): string {
  return "body" in r ? r.body : (ships.get(r.ship)?.name ?? r.ship);
}
