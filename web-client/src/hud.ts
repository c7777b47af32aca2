// The heads-up display: DOM panels over the 3D view. Every value cell has data-hud="…" so the
// browser tests (and players' own scripts) can read it.
import { BINDINGS, type Action } from "./controls";

const h = <K extends keyof HTMLElementTagNameMap>(tag: K, cls = "", text = ""): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
};

export class Hud {
  readonly root: HTMLDivElement;
  readonly viewport: HTMLDivElement;
  private cells = new Map<string, HTMLElement>();
  private toasts: HTMLDivElement;
  private banner: HTMLDivElement;
  readonly help: HTMLDivElement;
  readonly respawnDialog: HTMLDivElement;
  readonly throttleFill: HTMLDivElement;
  readonly fuelFill: HTMLDivElement;
  readonly markers: Record<"prograde" | "retrograde" | "target", HTMLDivElement>;
  private buttons = new Map<string, HTMLButtonElement>();

  constructor(
    parent: HTMLElement,
    private onAction: (a: Action, down: boolean) => void,
    onLogout: () => void,
    onRespawn: (cls: string) => void,
  ) {
    this.root = h("div", "hud-root");
    this.viewport = h("div", "viewport");
    this.root.appendChild(this.viewport);
    const overlay = h("div", "hud");
    this.root.appendChild(overlay);
    parent.appendChild(this.root);

    // Top bar: connection, tick, time, player.
    const top = h("div", "topbar panel");
    top.append(
      this.cell("conn", "status", "connecting…"),
      this.pair("TICK", "tick"),
      this.pair("T+", "game_time"),
      this.pair("STATE AGE", "state_age"),
      this.pair("CMD", "cmd"),
      this.pair("CAM", "camera"),
    );
    const who = h("div", "who");
    const name = this.cell("player", "player", "");
    const logout = h("button", "small", "Log out");
    logout.id = "logout";
    logout.addEventListener("click", onLogout);
    who.append(name, logout);
    top.append(who);
    overlay.appendChild(top);

    // Orbit panel (top left).
    const orbit = this.panel("ORBIT", "orbit", [
      ["Body", "body"],
      ["Altitude", "altitude"],
      ["Speed", "speed"],
      ["Vert. speed", "vspeed"],
      ["Apoapsis", "apoapsis"],
      ["Periapsis", "periapsis"],
      ["Period", "period"],
      ["Inclination", "inclination"],
      ["Eccentricity", "eccentricity"],
      ["Prediction", "prediction"],
    ]);
    overlay.appendChild(orbit);

    // Target panel (top right).
    const target = this.panel("TARGET", "target", [
      ["Target", "target_name"],
      ["Distance", "target_distance"],
      ["Closing", "target_closing"],
      ["Rel. velocity", "target_relvel"],
    ]);
    overlay.appendChild(target);

    // Ship panel (bottom left): throttle and fuel bars.
    const ship = this.panel("SHIP", "ship", [
      ["Ship", "ship_name"],
      ["Status", "ship_status"],
      ["Mode", "attitude_mode"],
      ["Throttle", "throttle"],
      ["Fuel", "fuel"],
      ["Δv left", "delta_v"],
      ["Accel.", "accel"],
      ["Burn time", "burn_time"],
    ]);
    const bars = h("div", "bars");
    const tb = h("div", "bar throttle");
    this.throttleFill = h("div", "fill");
    tb.append(this.throttleFill, h("span", "bar-label", "THR"));
    const fb = h("div", "bar fuel");
    this.fuelFill = h("div", "fill");
    fb.append(this.fuelFill, h("span", "bar-label", "FUEL"));
    bars.append(tb, fb);
    ship.appendChild(bars);
    // Bottom dock: ship panel and toasts in a row above the control buttons, so nothing overlaps
    // whatever the window size.
    const dock = h("div", "dock");
    const dockRow = h("div", "dock-row");
    dock.appendChild(dockRow);
    dockRow.appendChild(ship);
    overlay.appendChild(dock);

    // Controls (bottom centre): every key has a button.
    const controls = h("div", "controls panel");
    const groups = new Map<string, HTMLDivElement>();
    for (const b of BINDINGS) {
      let g = groups.get(b.group);
      if (!g) {
        g = h("div", "btn-group");
        g.appendChild(h("span", "group-title", b.group));
        groups.set(b.group, g);
        controls.appendChild(g);
      }
      const btn = h("button", "ctl", b.label);
      btn.title = `${b.label} — key ${b.keys}`;
      btn.dataset.action = b.action;
      btn.appendChild(h("kbd", "", b.keys));
      if (b.hold) {
        const down = (e: Event) => {
          e.preventDefault();
          this.onAction(b.action, true);
        };
        const up = () => this.onAction(b.action, false);
        btn.addEventListener("pointerdown", down);
        btn.addEventListener("pointerup", up);
        btn.addEventListener("pointerleave", up);
        btn.addEventListener("pointercancel", up);
      } else {
        btn.addEventListener("click", () => this.onAction(b.action, true));
      }
      btn.tabIndex = -1; // keep Tab for target cycling
      this.buttons.set(b.action, btn);
      g.appendChild(btn);
    }
    const collapse = h("button", "ctl collapse", "Hide buttons");
    collapse.tabIndex = -1;
    collapse.title = "Hide or show the on-screen control buttons (the keys work either way)";
    const setCollapsed = (on: boolean) => {
      controls.classList.toggle("collapsed", on);
      collapse.textContent = on ? "Show buttons" : "Hide buttons";
      try {
        localStorage.setItem("galaxy.controlsCollapsed", on ? "1" : "0");
      } catch {
        /* private mode */
      }
    };
    collapse.addEventListener("click", () => setCollapsed(!controls.classList.contains("collapsed")));
    controls.appendChild(collapse);
    setCollapsed(localStorage.getItem("galaxy.controlsCollapsed") === "1");
    dock.appendChild(controls);

    // Toasts (bottom right): acks and rejections.
    this.toasts = h("div", "toasts");
    this.toasts.setAttribute("aria-live", "polite");
    dockRow.appendChild(this.toasts);

    // Connection banner (centre top) when offline.
    this.banner = h("div", "banner");
    this.banner.hidden = true;
    overlay.appendChild(this.banner);

    // Cockpit: canopy frame, reticle and markers.
    const canopy = h("div", "canopy");
    canopy.innerHTML = `<svg viewBox="0 0 1000 1000" preserveAspectRatio="none" aria-hidden="true">
      <defs><linearGradient id="strut" x1="0" x2="1"><stop offset="0" stop-color="#05080d"/><stop offset="0.8" stop-color="#111a24"/><stop offset="1" stop-color="#2c4256"/></linearGradient></defs>
      <path d="M0 0 L120 0 L300 1000 L0 1000 Z" fill="url(#strut)" opacity="0.92"/>
      <path d="M1000 0 L880 0 L700 1000 L1000 1000 Z" fill="url(#strut)" opacity="0.92"/>
      <path d="M0 0 L1000 0 L1000 22 Q500 70 0 22 Z" fill="#070b12" opacity="0.95"/>
      <path d="M0 1000 L0 900 Q500 820 1000 900 L1000 1000 Z" fill="#070b12" opacity="0.9"/>
      <path d="M120 0 L300 1000 M880 0 L700 1000" stroke="#35e0ff" stroke-opacity="0.25" stroke-width="2" fill="none"/>
    </svg>`;
    overlay.prepend(canopy); // behind the panels
    overlay.appendChild(h("div", "reticle"));
    this.markers = {
      prograde: h("div", "marker prograde"),
      retrograde: h("div", "marker retrograde"),
      target: h("div", "marker targetm"),
    };
    this.markers.prograde.title = "prograde";
    this.markers.retrograde.title = "retrograde";
    for (const m of Object.values(this.markers)) overlay.appendChild(m);

    // Help overlay.
    this.help = h("div", "modal help");
    this.help.hidden = true;
    const card = h("div", "modal-card");
    card.appendChild(h("h2", "", "Flight controls"));
    const columns = h("div", "help-columns");
    const groupsHelp = new Map<string, HTMLDivElement>();
    const groupGrid = (name: string) => {
      let g = groupsHelp.get(name);
      if (!g) {
        const block = h("div", "help-block");
        block.appendChild(h("div", "help-group", name));
        g = h("div", "help-grid");
        block.appendChild(g);
        columns.appendChild(block);
        groupsHelp.set(name, g);
      }
      return g;
    };
    for (const b of BINDINGS) groupGrid(b.group).append(h("kbd", "", b.keys), h("span", "", b.label));
    groupGrid("Mouse").append(h("kbd", "", "drag"), h("span", "", "Look around (chase) / rotate the map"), h("kbd", "", "wheel"), h("span", "", "Zoom"));
    card.appendChild(columns);
    card.appendChild(
      h(
        "p",
        "hint",
        "Rotation keys fire the attitude thrusters while held; release them and the ship holds or returns to its attitude mode. Commands apply at the start of the next tick. Esc closes this window.",
      ),
    );
    const close = h("button", "primary", "Close");
    close.addEventListener("click", () => (this.help.hidden = true));
    card.appendChild(close);
    this.help.appendChild(card);
    overlay.appendChild(this.help);

    // Respawn dialog.
    this.respawnDialog = h("div", "modal respawn");
    this.respawnDialog.hidden = true;
    const rc = h("div", "modal-card");
    rc.appendChild(h("h2", "", "Respawn"));
    rc.appendChild(h("p", "hint", "A new ship in low orbit around the spawn body. Your current ship is replaced."));
    const classes = h("div", "classes");
    classes.id = "respawn-classes";
    rc.appendChild(classes);
    const cancel = h("button", "", "Cancel");
    cancel.addEventListener("click", () => (this.respawnDialog.hidden = true));
    rc.appendChild(cancel);
    this.respawnDialog.appendChild(rc);
    this.respawnDialog.addEventListener("click", (e) => {
      const t = (e.target as HTMLElement).closest("button[data-class]") as HTMLButtonElement | null;
      if (t) {
        this.respawnDialog.hidden = true;
        onRespawn(t.dataset.class!);
      }
    });
    overlay.appendChild(this.respawnDialog);
  }

  setShipClasses(classes: string[]): void {
    const box = this.respawnDialog.querySelector("#respawn-classes")!;
    box.innerHTML = "";
    const blurb: Record<string, string> = {
      fast_frigate: "Light, quick to turn, huge Δv for its size.",
      cargo_hauler: "Heavy, slow to turn, big tanks.",
    };
    classes.forEach((c, i) => {
      const b = h("button", "class-btn");
      b.dataset.class = c;
      b.append(h("kbd", "", String(i + 1)), h("strong", "", c.replace(/_/g, " ")), h("span", "", blurb[c] ?? ""));
      box.appendChild(b);
    });
  }

  private cell(key: string, cls: string, text: string): HTMLElement {
    const e = h("span", cls, text);
    e.dataset.hud = key;
    this.cells.set(key, e);
    return e;
  }

  private pair(label: string, key: string): HTMLElement {
    const w = h("span", "pair");
    w.append(h("span", "k", label), this.cell(key, "v", "—"));
    return w;
  }

  private panel(title: string, cls: string, rows: [string, string][]): HTMLDivElement {
    const p = h("div", `panel ${cls}`);
    p.appendChild(h("div", "panel-title", title));
    const grid = h("div", "grid");
    for (const [label, key] of rows) grid.append(h("span", "k", label), this.cell(key, "v", "—"));
    p.appendChild(grid);
    return p;
  }

  set(key: string, text: string, cls?: string): void {
    const e = this.cells.get(key);
    if (!e) return;
    if (e.textContent !== text) e.textContent = text;
    if (cls !== undefined && e.dataset.cls !== cls) {
      e.dataset.cls = cls;
      e.classList.remove("ok", "warn", "bad", "dim");
      if (cls) e.classList.add(cls);
    }
  }

  setBanner(text: string | null): void {
    this.banner.hidden = !text;
    if (text) this.banner.textContent = text;
  }

  setActive(action: Action, on: boolean): void {
    this.buttons.get(action)?.classList.toggle("active", on);
  }

  toast(text: string, kind: "ok" | "bad" | "info" = "info"): void {
    const t = h("div", `toast ${kind}`, text);
    this.toasts.appendChild(t);
    while (this.toasts.childElementCount > 5) this.toasts.firstElementChild!.remove();
    setTimeout(() => t.classList.add("fade"), kind === "bad" ? 5000 : 1800);
    setTimeout(() => t.remove(), kind === "bad" ? 6000 : 2600);
  }

  placeMarker(m: HTMLDivElement, at: [number, number] | null): void {
    if (!at) {
      m.style.display = "none";
      return;
    }
    m.style.display = "block";
    m.style.transform = `translate(${at[0].toFixed(1)}px, ${at[1].toFixed(1)}px)`;
  }

  dispose(): void {
    this.root.remove();
  }
}
