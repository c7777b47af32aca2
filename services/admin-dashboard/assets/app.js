// The admin dashboard page: logs in through /admin/api/login (the session lives in an
// HttpOnly cookie this script never sees), then polls the status every second and the timings
// every two, and sends the controls as JSON requests. No framework: the page is small and must
// load nothing from elsewhere.
"use strict";

const $ = (id) => document.getElementById(id);
const SERIES = ["total_seconds", "commands_seconds", "step_seconds", "publish_seconds"];
let chart = null;
let polling = null;

async function api(path, method = "GET", body = undefined) {
  const options = { method, headers: {}, credentials: "same-origin" };
  if (method !== "GET") {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body ?? {});
  }
  const response = await fetch("/admin/api/" + path, options);
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) {
    showLogin();
  }
  if (!response.ok) {
    throw new Error(data.error || response.statusText);
  }
  return data;
}

function say(text) {
  $("message").textContent = text;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function button(label, onClick) {
  const element = document.createElement("button");
  element.textContent = label;
  element.addEventListener("click", onClick);
  return element;
}

function showLogin() {
  clearInterval(polling);
  polling = null;
  $("admin-view").hidden = true;
  $("logout").hidden = true;
  $("who").textContent = "";
  $("login-view").hidden = false;
}

function showAdmin(username) {
  $("login-view").hidden = true;
  $("admin-view").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = "logged in as " + username;
  refreshStatus();
  refreshTimings();
  refreshSnapshots();
  let beat = 0;
  clearInterval(polling);
  polling = setInterval(() => {
    refreshStatus();
    beat += 1;
    if (beat % 2 === 0) refreshTimings();
  }, 1000);
}

function drift(id, value, level) {
  const element = $(id);
  element.textContent = value.toExponential(3);
  element.className = level;
}

async function refreshStatus() {
  try {
    const s = await api("status");
    $("s-tick").textContent = s.tick;
    $("s-state").textContent = s.standby ? "standby" : s.paused ? "paused" : "running";
    $("s-rate").textContent = `${s.tick_rate_hz} Hz / ${s.actual_tick_rate_hz.toFixed(2)} Hz`;
    $("s-scale").textContent = s.time_scale + "×";
    $("s-behind").textContent = s.ticks_behind;
    drift("s-energy", s.energy_drift, s.energy_drift_level);
    drift("s-momentum", s.momentum_drift, s.momentum_drift_level);
    $("s-registrations").textContent = s.registrations_open ? "open" : "closed";
    $("s-snapshot").textContent = s.last_snapshot_tick || "none yet";
  } catch (error) {
    say("status: " + error.message);
  }
}

async function refreshTimings() {
  if (typeof uPlot === "undefined") return;
  try {
    const { samples } = await api("timings");
    const data = [samples.map((s) => s.at), ...SERIES.map((key) => samples.map((s) => s[key] * 1000))];
    if (!chart) {
      chart = new uPlot(
        {
          width: 720,
          height: 260,
          scales: { x: { time: true } },
          axes: [{}, { label: "ms" }],
          series: [
            {},
            { label: "total", stroke: "#1f6feb", width: 2 },
            { label: "commands", stroke: "#d29922" },
            { label: "step", stroke: "#3fb950" },
            { label: "publish", stroke: "#a371f7" },
          ],
        },
        data,
        $("chart"),
      );
    } else {
      chart.setData(data);
    }
  } catch (error) {
    say("timings: " + error.message);
  }
}

async function refreshSnapshots() {
  try {
    const { snapshots } = await api("snapshots");
    const body = $("snapshots").querySelector("tbody");
    body.replaceChildren();
    for (const snapshot of snapshots) {
      const row = document.createElement("tr");
      cell(row, snapshot.snapshot_id);
      cell(row, snapshot.tick);
      cell(row, snapshot.game_time.toFixed(1));
      cell(row, snapshot.size_bytes);
      cell(row, new Date(snapshot.created_at_unix * 1000).toLocaleString());
      cell(row, "").appendChild(
        button("Restore", async () => {
          if (!confirm(`Replace the running world with snapshot ${snapshot.snapshot_id} (tick ${snapshot.tick})?`)) return;
          await control(`snapshots/${snapshot.snapshot_id}/restore`, { confirm: true }, `restored snapshot ${snapshot.snapshot_id}`);
        }),
      );
      body.appendChild(row);
    }
  } catch (error) {
    say("snapshots: " + error.message);
  }
}

async function refreshPlayers() {
  try {
    const { players } = await api("players");
    const online = players.filter((player) => player.online).length;
    $("players-heading").textContent = `Players: ${online} online of ${players.length}`;
    const body = $("players").querySelector("tbody");
    body.replaceChildren();
    for (const player of players) {
      if ($("online-only").checked && !player.online) continue;
      const row = document.createElement("tr");
      row.dataset.username = player.username;
      cell(row, player.id);
      cell(row, player.username);
      cell(row, player.role);
      cell(row, player.banned ? "yes" : "no");
      cell(row, player.online ? "online" : player.last_seen_unix ? `seen ${new Date(player.last_seen_unix * 1000).toLocaleString()}` : "never");
      const actions = cell(row, "");
      const act = (action) => async () => {
        try {
          await api(`players/${encodeURIComponent(player.username)}/${action}`, "POST");
          say(`${action}: ${player.username}`);
        } catch (error) {
          say(`${action}: ${error.message}`);
        }
        refreshPlayers();
      };
      actions.appendChild(button("Kick", act("kick")));
      actions.appendChild(button(player.banned ? "Unban" : "Ban", act(player.banned ? "unban" : "ban")));
      body.appendChild(row);
    }
  } catch (error) {
    say("players: " + error.message);
  }
}

async function refreshAudit() {
  try {
    const { entries } = await api("audit");
    const body = $("audit").querySelector("tbody");
    body.replaceChildren();
    for (const entry of entries) {
      const row = document.createElement("tr");
      cell(row, new Date(entry.at_unix_ms).toLocaleString());
      cell(row, entry.admin);
      cell(row, entry.action);
      cell(row, JSON.stringify(entry.details));
      body.appendChild(row);
    }
  } catch (error) {
    say("audit: " + error.message);
  }
}

async function control(path, body, done) {
  try {
    await api(path, "POST", body);
    say(done);
  } catch (error) {
    say(error.message);
  }
  refreshStatus();
  refreshSnapshots();
}

function wire() {
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const me = await api("login", "POST", { username: $("login-username").value, password: $("login-password").value });
      $("login-password").value = "";
      say("");
      showAdmin(me.username);
    } catch (error) {
      say("login failed: " + error.message);
    }
  });
  $("logout").addEventListener("click", async () => {
    await api("logout", "POST").catch(() => {});
    showLogin();
  });
  $("pause").addEventListener("click", () => control("pause", {}, "paused"));
  $("resume").addEventListener("click", () => control("resume", {}, "resumed"));
  $("rate-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = Number($("rate-input").value);
    control("tick-rate", { value }, `tick rate set to ${value} Hz`);
  });
  $("scale-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = Number($("scale-input").value);
    control("time-scale", { value }, `time scale set to ${value}×`);
  });
  $("registrations-open").addEventListener("click", () => control("registrations", { open: true }, "registrations open"));
  $("registrations-close").addEventListener("click", () => control("registrations", { open: false }, "registrations closed"));
  $("online-only").addEventListener("change", () => refreshPlayers());
  $("snapshot-now").addEventListener("click", () => control("snapshots", {}, "snapshot saved"));
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => {
      for (const other of document.querySelectorAll(".tab")) other.classList.toggle("active", other === tab);
      for (const panel of document.querySelectorAll(".panel")) panel.hidden = panel.id !== tab.dataset.tab;
      if (tab.dataset.tab === "players-tab") refreshPlayers();
      if (tab.dataset.tab === "audit-tab") refreshAudit();
    });
  }
}

wire();
api("me")
  .then((me) => showAdmin(me.username))
  .catch(() => showLogin());
