// Entry point: the login screen, the session in localStorage, and the flight deck.
import "./style.css";
import { api, clearSession, describeError, loadSession, saveSession, ApiError } from "./api";
import { Game } from "./game";
import type { Session } from "./types";

const loginScreen = document.getElementById("login") as HTMLElement;
const gameScreen = document.getElementById("game") as HTMLElement;
const form = document.getElementById("login-form") as HTMLFormElement;
const username = document.getElementById("username") as HTMLInputElement;
const password = document.getElementById("password") as HTMLInputElement;
const errorBox = document.getElementById("login-error") as HTMLElement;
const loginBtn = document.getElementById("login-btn") as HTMLButtonElement;
const registerBtn = document.getElementById("register-btn") as HTMLButtonElement;

let game: Game | null = null;

function showLogin(message?: string): void {
  game?.dispose();
  game = null;
  gameScreen.hidden = true;
  loginScreen.hidden = false;
  errorBox.textContent = message ?? "";
  errorBox.classList.toggle("info", !!message && !message.startsWith("Wrong"));
  setBusy(false);
  (username.value ? password : username).focus();
}

function startGame(session: Session): void {
  loginScreen.hidden = true;
  gameScreen.hidden = false;
  game?.dispose();
  game = new Game(gameScreen, session, (reason) => void logout(session, reason));
}

async function logout(session: Session, reason?: string): Promise<void> {
  clearSession();
  if (!reason) {
    try {
      await api.logout(session.token);
    } catch {
      /* the token is forgotten locally either way */
    }
  }
  password.value = "";
  showLogin(reason ?? "Logged out.");
}

function setBusy(busy: boolean): void {
  loginBtn.disabled = registerBtn.disabled = busy;
  form.classList.toggle("busy", busy);
}

function validate(register: boolean): string | null {
  const u = username.value.trim();
  if (!/^[A-Za-z0-9_]{3,20}$/.test(u)) return "Callsign must be 3–20 letters, digits or _.";
  if (register && [...password.value].length < 8) return "Password must be at least 8 characters.";
  if (!password.value) return "Enter your password.";
  return null;
}

async function submit(register: boolean): Promise<void> {
  const problem = validate(register);
  if (problem) {
    errorBox.textContent = problem;
    errorBox.classList.remove("info");
    return;
  }
  setBusy(true);
  errorBox.textContent = register ? "Creating account…" : "Logging in…";
  errorBox.classList.add("info");
  try {
    const u = username.value.trim();
    const s = register ? await api.register(u, password.value) : await api.login(u, password.value);
    saveSession(s);
    password.value = "";
    errorBox.textContent = "";
    startGame(s);
  } catch (e) {
    errorBox.classList.remove("info");
    errorBox.textContent = describeError(e, register ? "register" : "login");
    setBusy(false);
  }
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  void submit(false);
});
registerBtn.addEventListener("click", () => void submit(true));

async function boot(): Promise<void> {
  const stored = loadSession();
  if (!stored) {
    showLogin();
    return;
  }
  try {
    const me = await api.me(stored.token);
    let session: Session = { ...stored, player: me.player, ship_id: me.ship?.id ?? stored.ship_id };
    // A token that expires within 6 hours is swapped for a fresh one (the old one is revoked).
    if (stored.expires_at && stored.expires_at * 1000 - Date.now() < 6 * 3_600_000) {
      try {
        const fresh = await api.refresh(stored.token);
        session = { ...fresh, ship_id: fresh.ship_id ?? session.ship_id };
      } catch {
        /* keep the current token while it lasts */
      }
    }
    saveSession(session);
    startGame(session);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
      clearSession();
      showLogin(e.status === 401 ? "Your session has expired. Please log in again." : describeError(e));
    } else {
      // Server unreachable or busy: keep the session, the flight deck reconnects by itself.
      startGame(stored);
    }
  }
}

void boot();
