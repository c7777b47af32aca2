// The 3D view. Floating origin: every frame the caller gives f64 world positions; we subtract the
// origin (your ship, or the map's focus) in f64 and only then hand the small differences to three.js
// (whose GPU maths is float32). A logarithmic depth buffer covers metres to the outer planets.
import * as THREE from "three";
import { CSS2DObject, CSS2DRenderer } from "three/addons/renderers/CSS2DRenderer.js";
import { planetshine, sunVisibility, type Sphere } from "./math/light";
import { findStar } from "./math/soi";
import type { BodyCatalog, Quat, Vec3 } from "./types";

export type CameraMode = "cockpit" | "chase" | "map";

export interface ShipView {
  id: string;
  name: string;
  position: Vec3;
  attitude: Quat;
  throttle: number;
  label: boolean;
  target: boolean;
}

export interface Frame {
  /** Where the floating origin is (f64 world). */
  origin: Vec3;
  own: { position: Vec3; attitude: Quat; throttle: number } | null;
  bodies: Map<string, Vec3>;
  ships: ShipView[];
  mapFocus: Vec3;
  targetBody: string | null;
  /**
   * The predicted path from your ship to the server's first future point, relative to the
   * prediction's reference body, and the index of that first future point.
   */
  predictionLead?: { points: Vec3[]; from: number } | null;
}

const tmpQ = new THREE.Quaternion();
const tmpV = new THREE.Vector3();
const tmpM = new THREE.Matrix4();
const toThreeQ = (q: Quat, out = tmpQ) => out.set(q[1], q[2], q[3], q[0]);
/** Turns a three.js camera (looking down −Z) into one looking down the ship's +Z. */
const CAMERA_FLIP = new THREE.Quaternion().setFromAxisAngle(new THREE.Vector3(0, 1, 0), Math.PI);

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function rng(seed: number) {
  let s = seed || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) % 100000) / 100000;
  };
}

/** A procedural surface: bands for gas giants, blotches for rocky bodies (no downloads). */
function bodyTexture(body: BodyCatalog): THREE.Texture {
  const earth = body.name === "Earth";
  const w = earth ? 2048 : 512;
  const h = w / 2;
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d")!;
  const base = new THREE.Color(earth ? 0x1a4f96 : body.color);
  const rand = rng(hashString(body.name));
  const gas = body.radius > 2e7 && body.kind !== "star";
  const css = (c: THREE.Color) => `#${c.getHexString()}`;
  ctx.fillStyle = css(base);
  ctx.fillRect(0, 0, w, h);
  if (gas) {
    // Banded clouds with a little turbulence.
    const phase = rand() * 10;
    for (let y = 0; y < h; y++) {
      const v = y / h;
      const k = 0.8 + 0.18 * Math.sin(v * 38 + phase) + 0.1 * Math.sin(v * 91 + 2 * phase) + 0.04 * rand();
      ctx.fillStyle = css(base.clone().multiplyScalar(k));
      ctx.fillRect(0, y, w, 1);
    }
    ctx.globalAlpha = 0.25;
    for (let i = 0; i < 160; i++) {
      ctx.fillStyle = css(base.clone().multiplyScalar(0.7 + 0.6 * rand()));
      ctx.beginPath();
      ctx.ellipse(rand() * w, rand() * h, 10 + rand() * 40, 2 + rand() * 5, 0, 0, Math.PI * 2);
      ctx.fill();
    }
  } else if (earth) {
    // Oceans, continents built from clustered blobs (greens and deserts), ice caps and clouds.
    ctx.fillStyle = css(new THREE.Color(0x123f80));
    for (let y = 0; y < h; y += 4) {
      ctx.globalAlpha = 0.15;
      ctx.fillRect(0, y, w, 2);
    }
    const land = [0x2f6b33, 0x3d7a3a, 0x7a7046, 0x9c8a5a, 0x4d6b3a];
    for (let c = 0; c < 9; c++) {
      const cx = rand() * w;
      const cy = h * (0.2 + 0.6 * rand());
      const spread = 60 + rand() * 160;
      for (let i = 0; i < 90; i++) {
        ctx.globalAlpha = 0.55 + 0.4 * rand();
        ctx.fillStyle = css(new THREE.Color(land[Math.floor(rand() * land.length)]));
        ctx.beginPath();
        ctx.ellipse(cx + (rand() - 0.5) * spread * 2, cy + (rand() - 0.5) * spread, 8 + rand() * 45, 6 + rand() * 30, rand() * 3, 0, Math.PI * 2);
        ctx.fill();
      }
    }
    ctx.globalAlpha = 0.92;
    ctx.fillStyle = "#eef4ff";
    ctx.fillRect(0, 0, w, h * 0.06);
    ctx.fillRect(0, h * 0.94, w, h * 0.06);
    for (let i = 0; i < 220; i++) {
      ctx.globalAlpha = 0.18 + 0.3 * rand();
      ctx.fillStyle = "#ffffff";
      ctx.beginPath();
      ctx.ellipse(rand() * w, rand() * h, 20 + rand() * 120, 3 + rand() * 14, (rand() - 0.5) * 0.5, 0, Math.PI * 2);
      ctx.fill();
    }
  } else {
    // Rocky: mottled plains and craters.
    for (let i = 0; i < 400; i++) {
      ctx.globalAlpha = 0.3;
      ctx.fillStyle = css(base.clone().multiplyScalar(0.65 + 0.55 * rand()));
      ctx.beginPath();
      ctx.ellipse(rand() * w, rand() * h, 4 + rand() * 40, 3 + rand() * 20, rand() * 3, 0, Math.PI * 2);
      ctx.fill();
    }
    for (let i = 0; i < 140; i++) {
      const x = rand() * w;
      const y = rand() * h;
      const r = 1.5 + rand() ** 3 * 16;
      ctx.globalAlpha = 0.45;
      ctx.fillStyle = css(base.clone().multiplyScalar(0.55));
      ctx.beginPath();
      ctx.arc(x, y, r, 0, Math.PI * 2);
      ctx.fill();
      ctx.globalAlpha = 0.35;
      ctx.strokeStyle = css(base.clone().multiplyScalar(1.3));
      ctx.lineWidth = Math.max(1, r / 5);
      ctx.beginPath();
      ctx.arc(x + r * 0.15, y + r * 0.15, r, 0, Math.PI * 2);
      ctx.stroke();
    }
  }
  ctx.globalAlpha = 1;
  const tex = new THREE.CanvasTexture(canvas);
  tex.colorSpace = THREE.SRGBColorSpace;
  tex.anisotropy = 8;
  return tex;
}

/** A soft round dot for point sprites. */
function dotTexture(): THREE.Texture {
  const s = 32;
  const canvas = document.createElement("canvas");
  canvas.width = s;
  canvas.height = s;
  const ctx = canvas.getContext("2d")!;
  const g = ctx.createRadialGradient(s / 2, s / 2, 0, s / 2, s / 2, s / 2);
  g.addColorStop(0, "rgba(255,255,255,1)");
  g.addColorStop(0.4, "rgba(140,225,255,0.9)");
  g.addColorStop(1, "rgba(40,160,255,0)");
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, s, s);
  const tex = new THREE.CanvasTexture(canvas);
  tex.colorSpace = THREE.SRGBColorSpace;
  tex.generateMipmaps = false;
  tex.minFilter = THREE.LinearFilter;
  return tex;
}

function glowTexture(inner: string, outer: string): THREE.Texture {
  const s = 128;
  const canvas = document.createElement("canvas");
  canvas.width = s;
  canvas.height = s;
  const ctx = canvas.getContext("2d")!;
  const g = ctx.createRadialGradient(s / 2, s / 2, 0, s / 2, s / 2, s / 2);
  g.addColorStop(0, inner);
  g.addColorStop(0.2, inner);
  g.addColorStop(0.45, outer);
  g.addColorStop(1, "rgba(0,0,0,0)");
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, s, s);
  const tex = new THREE.CanvasTexture(canvas);
  tex.colorSpace = THREE.SRGBColorSpace;
  return tex;
}

/** A small spaceship built along +Z (forward), +Y up; about 30 m long. */
function shipGeometry(): THREE.BufferGeometry[] {
  const hull = new THREE.CylinderGeometry(2.2, 3.2, 18, 12);
  hull.rotateX(Math.PI / 2);
  const nose = new THREE.ConeGeometry(2.2, 9, 12);
  nose.rotateX(Math.PI / 2);
  nose.translate(0, 0, 13.5);
  const wings = new THREE.BoxGeometry(20, 0.6, 7);
  wings.translate(0, -0.8, -5);
  const fin = new THREE.BoxGeometry(0.6, 6, 5);
  fin.translate(0, 3.5, -6.5);
  const nozzle = new THREE.CylinderGeometry(2.6, 1.8, 3, 12, 1, true);
  nozzle.rotateX(Math.PI / 2);
  nozzle.translate(0, 0, -10.5);
  return [hull, nose, wings, fin, nozzle];
}

function mergedShipGeometry(): THREE.BufferGeometry {
  // Hand-rolled merge of non-indexed copies (avoids pulling BufferGeometryUtils).
  const parts = shipGeometry().map((g) => g.toNonIndexed());
  const count = parts.reduce((n, g) => n + g.attributes.position.count, 0);
  const pos = new Float32Array(count * 3);
  const nor = new Float32Array(count * 3);
  let o = 0;
  for (const g of parts) {
    pos.set(g.attributes.position.array as Float32Array, o * 3);
    nor.set(g.attributes.normal.array as Float32Array, o * 3);
    o += g.attributes.position.count;
  }
  const out = new THREE.BufferGeometry();
  out.setAttribute("position", new THREE.BufferAttribute(pos, 3));
  out.setAttribute("normal", new THREE.BufferAttribute(nor, 3));
  return out;
}

/** Whether WebGL runs on the CPU (no GPU): then quality settings go down to keep the frame rate. */
export function isSoftwareRenderer(): boolean {
  try {
    const gl = document.createElement("canvas").getContext("webgl2") ?? document.createElement("canvas").getContext("webgl");
    if (!gl) return true;
    const ext = gl.getExtension("WEBGL_debug_renderer_info");
    const name = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    gl.getExtension("WEBGL_lose_context")?.loseContext();
    return /swiftshader|llvmpipe|software|softpipe/i.test(name);
  } catch {
    return false;
  }
}

/** A thin glowing shell (Fresnel rim, bright on the day side, faint at night) for bodies with an atmosphere. */
function atmosphereMaterial(color: number): THREE.ShaderMaterial {
  return new THREE.ShaderMaterial({
    uniforms: { glow: { value: new THREE.Color(color) }, sunView: { value: new THREE.Vector3(0, 0, 1) } },
    vertexShader: `
      #include <common>
      #include <logdepthbuf_pars_vertex>
      varying vec3 vNormal;
      varying vec3 vView;
      void main() {
        vec4 mv = modelViewMatrix * vec4(position, 1.0);
        vNormal = normalize(normalMatrix * normal);
        vView = normalize(-mv.xyz);
        gl_Position = projectionMatrix * mv;
        #include <logdepthbuf_vertex>
      }`,
    fragmentShader: `
      #include <common>
      #include <logdepthbuf_pars_fragment>
      uniform vec3 glow;
      uniform vec3 sunView;
      varying vec3 vNormal;
      varying vec3 vView;
      void main() {
        #include <logdepthbuf_fragment>
        float rim = pow(1.0 - abs(dot(vNormal, vView)), 2.5);
        float day = smoothstep(-0.35, 0.4, dot(vNormal, sunView));
        // A faint glow on the night side too (airglow), so the limb shows against space.
        gl_FragColor = vec4(glow * rim * (0.16 + 1.4 * day), rim);
      }`,
    transparent: true,
    blending: THREE.AdditiveBlending,
    depthWrite: false,
  });
}

/**
 * Scales a material's direct light by how much of the Sun the object sees (0 in a planet's
 * shadow). The Sun is the scene's only direct light; the fill (starlight, planetshine) is
 * indirect and stays. `uniform` for one object, or null for an instanced mesh with a per-instance
 * `instanceSunVisibility` attribute.
 */
function eclipsable<M extends THREE.MeshStandardMaterial>(mat: M, uniform: { value: number } | null): M {
  mat.onBeforeCompile = (shader) => {
    if (uniform) {
      shader.uniforms.sunVisibility = uniform;
      shader.fragmentShader = `uniform float sunVisibility;\n${shader.fragmentShader}`;
    } else {
      shader.vertexShader = `attribute float instanceSunVisibility;\nvarying float sunVisibility;\n${shader.vertexShader}`.replace(
        "#include <begin_vertex>",
        "#include <begin_vertex>\n\tsunVisibility = instanceSunVisibility;",
      );
      shader.fragmentShader = `varying float sunVisibility;\n${shader.fragmentShader}`;
    }
    shader.fragmentShader = shader.fragmentShader.replace(
      "#include <lights_fragment_end>",
      "#include <lights_fragment_end>\n\treflectedLight.directDiffuse *= sunVisibility;\n\treflectedLight.directSpecular *= sunVisibility;",
    );
  };
  mat.customProgramCacheKey = () => (uniform ? "eclipse-uniform" : "eclipse-instanced");
  return mat;
}

/** The Sun's light: a point light without falloff (every planet lit as brightly as the Earth). */
const SUN_INTENSITY = 2.4;
/**
 * Starlight: the faint fill every surface gets from the sky, so the night side of a planet and a
 * ship in its shadow stay readable (a real sky is darker; a game needs to see).
 */
const STARLIGHT = new THREE.Color(0x7f93bd).multiplyScalar(0.7);
/** What is left of the starlight from a planet's side: it hides the sky there. */
const PLANET_SIDE_STARLIGHT = 0.3;
/** Bond albedo used for planetshine (Earth ≈ 0.3; the catalogue has no albedo). */
const PLANET_ALBEDO = 0.3;

const ATMOSPHERES: Record<string, number> = { Earth: 0x5aa8ff, Venus: 0xffe2a8, Mars: 0xff9a6a, Titan: 0xffb45a, Jupiter: 0xf2d9b0, Saturn: 0xf5e6b8, Uranus: 0xa8f0ff, Neptune: 0x6f9bff };

interface BodyObj {
  catalog: BodyCatalog;
  mesh: THREE.Mesh;
  atmosphere: THREE.Mesh | null;
  label: CSS2DObject;
  labelEl: HTMLDivElement;
  radiusShown: number;
}

const MAX_SHIP_INSTANCES = 4096;
/** Most lead-in vertices between your ship and the server's first predicted point. */
export const MAX_LEAD = 32;
const BEACON_OFFSET = new THREE.Vector3(0, 7.5, -6.5);

export class SpaceView {
  readonly renderer: THREE.WebGLRenderer;
  readonly software: boolean;
  readonly labels: CSS2DRenderer;
  readonly scene = new THREE.Scene();
  readonly camera = new THREE.PerspectiveCamera(60, 1, 0.5, 1e14);
  mode: CameraMode = "chase";
  exaggerate = false;
  /** Map camera: distance from the focus (m), azimuth and elevation (rad). */
  map = { distance: 6e7, azimuth: -Math.PI / 2, elevation: 0.9 };
  /** Chase camera offsets (drag to look around). */
  chase = { yaw: 0.45, pitch: 0.22, distance: 75 };

  private bodies = new Map<string, BodyObj>();
  private starName: string | null = null;
  private sunLight = new THREE.PointLight(0xfff6e8, SUN_INTENSITY, 0, 0);
  /**
   * The fill: starlight from every direction (sky colour) plus, near a planet, the sunlight it
   * reflects (ground colour, from the planet's side; updated every frame).
   */
  private fill = new THREE.HemisphereLight(STARLIGHT, STARLIGHT, 1);
  /** How much of the Sun your ship sees (shared by its materials). */
  private ownSunVisibility = { value: 1 };
  private ownSunlit = 1;
  private ownHull: THREE.Mesh[] = [];
  private sunGlow: THREE.Mesh;
  private stars: THREE.Points;
  private ownShip: THREE.Group;
  private flame: THREE.Mesh;
  private otherShips: THREE.InstancedMesh;
  private beacons: THREE.Points;
  private shipLabels = new Map<string, { obj: CSS2DObject; el: HTMLDivElement }>();
  private prediction: THREE.Line;
  private predictionRef: string | null = null;
  /** Prediction points relative to the reference body (f64), re-based on the origin every frame. */
  private predictionPoints: Vec3[] = [];
  private orbitLines = new Map<string, { line: THREE.Line; parent: string }>();
  private ownLabel: CSS2DObject;

  constructor(private container: HTMLElement) {
    // A software renderer (SwiftShader, llvmpipe: no GPU) gets no MSAA and fewer pixels.
    this.software = isSoftwareRenderer();
    this.renderer = new THREE.WebGLRenderer({ antialias: !this.software, logarithmicDepthBuffer: true, powerPreference: "high-performance" });
    this.renderer.setPixelRatio(this.software ? Math.min(window.devicePixelRatio, 1) : Math.min(window.devicePixelRatio, 2));
    this.renderer.toneMapping = THREE.ACESFilmicToneMapping;
    this.renderer.toneMappingExposure = 1.1;
    this.renderer.domElement.id = "space";
    container.appendChild(this.renderer.domElement);
    this.labels = new CSS2DRenderer();
    this.labels.domElement.className = "labels";
    container.appendChild(this.labels.domElement);

    this.scene.background = new THREE.Color(0x01020a);
    this.scene.add(this.fill);
    this.scene.add(this.sunLight);

    this.stars = this.makeStars();
    this.scene.add(this.stars);

    // The Sun's glow: a camera-facing additive quad (turned toward the camera every frame).
    this.sunGlow = new THREE.Mesh(
      new THREE.PlaneGeometry(1, 1),
      new THREE.MeshBasicMaterial({
        map: glowTexture("rgba(255,250,230,1)", "rgba(255,170,60,0.35)"),
        blending: THREE.AdditiveBlending,
        depthWrite: false,
        transparent: true,
      }),
    );
    this.sunGlow.visible = false;
    this.scene.add(this.sunGlow);

    // Your ship.
    this.ownShip = new THREE.Group();
    // Painted more than polished (without an environment map a metal only shows the Sun), with
    // a little glow of its own (panel and flood lights) for the night side.
    const sv = this.ownSunVisibility;
    const hullMat = eclipsable(new THREE.MeshStandardMaterial({ color: 0xc9d2de, metalness: 0.3, roughness: 0.45, emissive: 0x1a2230 }), sv);
    const accentMat = eclipsable(new THREE.MeshStandardMaterial({ color: 0xff8a1f, metalness: 0.2, roughness: 0.55, emissive: 0x3a1400 }), sv);
    const nozzleMat = eclipsable(new THREE.MeshStandardMaterial({ color: 0x4a4f58, metalness: 0.6, roughness: 0.35, emissive: 0x0c0f14, side: THREE.DoubleSide }), sv);
    const mats = [hullMat, hullMat, accentMat, accentMat, nozzleMat];
    shipGeometry().forEach((g, i) => {
      const mesh = new THREE.Mesh(g, mats[i]);
      this.ownHull.push(mesh);
      this.ownShip.add(mesh);
    });
    // Navigation lights on the wing tips: red to port (the pilot's left, the ship's +X: the frame
    // is right-handed with +Z forward and +Y up), green to starboard.
    const navGeo = new THREE.SphereGeometry(0.35, 8, 6);
    for (const [x, color] of [[10.2, 0xff2a2a], [-10.2, 0x2aff5a]] as const) {
      const light = new THREE.Mesh(navGeo, new THREE.MeshBasicMaterial({ color }));
      light.position.set(x, -0.8, -5);
      this.ownShip.add(light);
    }
    const flameGeo = new THREE.ConeGeometry(2.1, 1, 16, 1, true);
    flameGeo.rotateX(-Math.PI / 2);
    flameGeo.translate(0, 0, -0.5);
    this.flame = new THREE.Mesh(
      flameGeo,
      new THREE.MeshBasicMaterial({ color: 0x7fc8ff, transparent: true, opacity: 0.85, blending: THREE.AdditiveBlending, depthWrite: false }),
    );
    this.flame.position.z = -12;
    this.ownShip.add(this.flame);
    this.scene.add(this.ownShip);
    const ownEl = document.createElement("div");
    ownEl.className = "label own";
    ownEl.textContent = "YOU";
    this.ownLabel = new CSS2DObject(ownEl);
    this.ownLabel.center.set(1.15, 0.5); // left of the point: body labels sit to the right
    this.scene.add(this.ownLabel);

    // Everyone else's ships: one instanced mesh.
    this.otherShips = new THREE.InstancedMesh(
      mergedShipGeometry(),
      eclipsable(new THREE.MeshStandardMaterial({ color: 0x9fb4d0, metalness: 0.3, roughness: 0.5, emissive: 0x0a1420 }), null),
      MAX_SHIP_INSTANCES,
    );
    this.otherShips.geometry.setAttribute("instanceSunVisibility", new THREE.InstancedBufferAttribute(new Float32Array(MAX_SHIP_INSTANCES).fill(1), 1));
    this.otherShips.count = 0;
    this.otherShips.frustumCulled = false;
    this.scene.add(this.otherShips);
    // A beacon on every other ship: a few pixels at any distance, so ships can be found.
    const beaconGeo = new THREE.BufferGeometry();
    beaconGeo.setAttribute("position", new THREE.BufferAttribute(new Float32Array(MAX_SHIP_INSTANCES * 3), 3));
    beaconGeo.setDrawRange(0, 0);
    this.beacons = new THREE.Points(
      beaconGeo,
      new THREE.PointsMaterial({ size: 6, sizeAttenuation: false, map: dotTexture(), color: 0xffffff, transparent: true, depthWrite: false, blending: THREE.AdditiveBlending }),
    );
    this.beacons.frustumCulled = false;
    this.scene.add(this.beacons);

    this.prediction = new THREE.Line(
      new THREE.BufferGeometry(),
      new THREE.LineBasicMaterial({ color: 0x35e0ff, transparent: true, opacity: 0.9 }),
    );
    this.prediction.frustumCulled = false;
    this.prediction.visible = false;
    this.scene.add(this.prediction);

    this.resize();
    window.addEventListener("resize", this.resize);
    this.attachMouse();
  }

  dispose(): void {
    window.removeEventListener("resize", this.resize);
    this.renderer.dispose();
    this.renderer.domElement.remove();
    this.labels.domElement.remove();
  }

  private resize = () => {
    const w = this.container.clientWidth || window.innerWidth;
    const h = this.container.clientHeight || window.innerHeight;
    this.renderer.setSize(w, h);
    this.labels.setSize(w, h);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
  };

  private attachMouse(): void {
    const el = this.labels.domElement;
    let dragging = false;
    let lx = 0;
    let ly = 0;
    el.addEventListener("pointerdown", (e) => {
      dragging = true;
      lx = e.clientX;
      ly = e.clientY;
      el.setPointerCapture(e.pointerId);
    });
    el.addEventListener("pointerup", (e) => {
      dragging = false;
      el.releasePointerCapture(e.pointerId);
    });
    el.addEventListener("pointermove", (e) => {
      if (!dragging) return;
      const dx = (e.clientX - lx) * 0.005;
      const dy = (e.clientY - ly) * 0.005;
      lx = e.clientX;
      ly = e.clientY;
      if (this.mode === "map") {
        this.map.azimuth -= dx;
        this.map.elevation = Math.max(-1.55, Math.min(1.55, this.map.elevation + dy));
      } else if (this.mode === "chase") {
        this.chase.yaw -= dx;
        this.chase.pitch = Math.max(-1.4, Math.min(1.4, this.chase.pitch + dy));
      }
    });
    el.addEventListener(
      "wheel",
      (e) => {
        e.preventDefault();
        // Proportional to the wheel distance (one notch ≈ 100 px ≈ 16%), capped per event.
        const k = Math.exp(Math.max(-3, Math.min(3, e.deltaY * 0.0015)));
        if (this.mode === "map") this.map.distance = Math.max(2e4, Math.min(3e13, this.map.distance * k));
        else if (this.mode === "chase") this.chase.distance = Math.max(25, Math.min(5000, this.chase.distance * k));
      },
      { passive: false },
    );
  }

  private makeStars(): THREE.Points {
    const n = 6000;
    const pos = new Float32Array(n * 3);
    const col = new Float32Array(n * 3);
    const rand = rng(12345);
    const c = new THREE.Color();
    for (let i = 0; i < n; i++) {
      // Uniform on the sphere, with a denser band (a hint of the Milky Way).
      let z = 2 * rand() - 1;
      if (i % 3 === 0) z *= 0.15;
      const phi = 2 * Math.PI * rand();
      const r = Math.sqrt(1 - z * z);
      pos.set([r * Math.cos(phi), z, r * Math.sin(phi)], i * 3);
      const t = rand();
      c.setHSL(t < 0.3 ? 0.6 : t < 0.6 ? 0.12 : 0.0, t < 0.6 ? 0.5 : 0.1, 0.55 + 0.45 * rand() ** 3);
      col.set([c.r, c.g, c.b], i * 3);
    }
    const g = new THREE.BufferGeometry();
    g.setAttribute("position", new THREE.BufferAttribute(pos, 3));
    g.setAttribute("color", new THREE.BufferAttribute(col, 3));
    const m = new THREE.PointsMaterial({ size: 1.6, sizeAttenuation: false, vertexColors: true, depthWrite: false });
    const p = new THREE.Points(g, m);
    p.frustumCulled = false;
    p.renderOrder = -1;
    return p;
  }

  setCatalog(bodies: BodyCatalog[]): void {
    for (const b of this.bodies.values()) {
      this.scene.remove(b.mesh, b.label);
      b.labelEl.remove();
    }
    this.bodies.clear();
    const starName = (this.starName = findStar(bodies));
    const geo = new THREE.SphereGeometry(1, 64, 32);
    geo.rotateX(Math.PI / 2); // poles along world Z (the ecliptic north)
    for (const body of bodies) {
      const star = body.name === starName;
      const mat = star
        ? new THREE.MeshBasicMaterial({ color: new THREE.Color(body.color || 0xfff2c0).multiplyScalar(1.6) })
        : new THREE.MeshStandardMaterial({ map: bodyTexture(body), roughness: 0.95, metalness: 0 });
      const mesh = new THREE.Mesh(geo, mat);
      mesh.name = body.name;
      this.scene.add(mesh);
      const el = document.createElement("div");
      el.className = `label body ${body.kind}`;
      el.innerHTML = `<span class="dot" style="background:#${new THREE.Color(body.color).getHexString()}"></span><span class="name"></span>`;
      el.querySelector(".name")!.textContent = body.name;
      const label = new CSS2DObject(el);
      label.center.set(0, 0.5);
      this.scene.add(label);
      let atmosphere: THREE.Mesh | null = null;
      if (ATMOSPHERES[body.name] !== undefined) {
        atmosphere = new THREE.Mesh(geo, atmosphereMaterial(ATMOSPHERES[body.name]));
        atmosphere.scale.setScalar(body.radius > 2e7 ? 1.03 : 1.018);
        mesh.add(atmosphere);
      }
      this.bodies.set(body.name, { catalog: body, mesh, atmosphere, label, labelEl: el, radiusShown: body.radius });
    }
  }

  /** Planet and moon orbit lines: points relative to their parent (m). */
  setOrbitLines(lines: { name: string; parent: string; points: Vec3[]; color: number }[]): void {
    for (const o of this.orbitLines.values()) {
      this.scene.remove(o.line);
      o.line.geometry.dispose();
    }
    this.orbitLines.clear();
    for (const l of lines) {
      const g = new THREE.BufferGeometry();
      g.setAttribute("position", new THREE.BufferAttribute(new Float32Array(l.points.flat()), 3));
      const line = new THREE.Line(
        g,
        new THREE.LineBasicMaterial({ color: new THREE.Color(l.color).lerp(new THREE.Color(0x6688aa), 0.5), transparent: true, opacity: 0.45 }),
      );
      line.frustumCulled = false;
      this.scene.add(line);
      this.orbitLines.set(l.name, { line, parent: l.parent });
    }
  }

  /** The server's predicted path of your ship: points relative to `reference` (m). */
  setPrediction(reference: string | null, points: Vec3[] | null): void {
    this.predictionRef = points && points.length >= 2 ? reference : null;
    const g = this.prediction.geometry;
    if (!points || points.length < 2 || !reference) {
      this.prediction.visible = false;
      return;
    }
    this.predictionPoints = points;
    // Room in front for your ship and the locally computed lead-in (Frame.predictionLead).
    g.setAttribute("position", new THREE.BufferAttribute(new Float32Array((points.length + 1 + MAX_LEAD) * 3), 3));
    this.prediction.visible = true;
  }

  /** Projects a world direction (unit) from the camera onto the screen: [x, y] px or null if behind. */
  projectDirection(dir: Vec3): [number, number] | null {
    tmpV.set(dir[0], dir[1], dir[2]).multiplyScalar(1000).add(this.camera.position);
    tmpV.project(this.camera);
    if (tmpV.z > 1 || tmpV.z < -1) return null;
    const w = this.renderer.domElement.clientWidth;
    const h = this.renderer.domElement.clientHeight;
    return [((tmpV.x + 1) / 2) * w, ((1 - tmpV.y) / 2) * h];
  }

  render(f: Frame): void {
    const o = f.origin;
    const map = this.mode === "map";
    // Scene units: metres near your ship; in the map, units of the camera's distance, so the GPU
    // never sees huge w values (software rasterisers interpolate badly at w ~ 1e11).
    const k = map ? 1 / this.map.distance : 1;
    this.unit = k;
    const rel = (p: Vec3, out: THREE.Vector3) => out.set((p[0] - o[0]) * k, (p[1] - o[1]) * k, (p[2] - o[2]) * k);
    const ownRel = new THREE.Vector3();
    if (f.own) rel(f.own.position, ownRel);

    // Camera.
    const cam = this.camera;
    if (map) {
      rel(f.mapFocus, tmpV);
      const { azimuth: az, elevation: el } = this.map;
      const d = this.map.distance * k; // = 1
      cam.up.set(0, 0, 1);
      cam.position.set(tmpV.x + d * Math.cos(el) * Math.cos(az), tmpV.y + d * Math.cos(el) * Math.sin(az), tmpV.z + d * Math.sin(el));
      cam.lookAt(tmpV);
      cam.near = 1e-5;
    } else if (f.own) {
      const q = toThreeQ(f.own.attitude, new THREE.Quaternion());
      if (this.mode === "cockpit") {
        cam.position.set(0, 1.8, 10).applyQuaternion(q).add(ownRel);
        cam.quaternion.copy(q).multiply(CAMERA_FLIP);
      } else {
        // The chase camera follows the ship's attitude with a short lag (0.2 s), so turns feel physical.
        const nowMs = performance.now();
        const dt = Math.min(0.5, Math.max(0, (nowMs - this.lastFrameMs) / 1000));
        if (this.chaseQ.lengthSq() === 0 || this.lastMode !== "chase") this.chaseQ.copy(q);
        else this.chaseQ.slerp(q, 1 - Math.exp(-dt / 0.2));
        q.copy(this.chaseQ);
        const { yaw, pitch, distance } = this.chase;
        const off = new THREE.Vector3(
          -Math.sin(yaw) * Math.cos(pitch) * distance,
          Math.sin(pitch) * distance,
          -Math.cos(yaw) * Math.cos(pitch) * distance,
        ).applyQuaternion(q);
        cam.position.copy(ownRel).add(off);
        cam.up.set(0, 1, 0).applyQuaternion(q);
        cam.lookAt(new THREE.Vector3(0, 4, 0).applyQuaternion(q).add(ownRel));
      }
      cam.near = 0.5;
    }

    let glowAt = false;
    // Bodies. Exaggerated sizes: up to 40× (the Sun 8×), but at most a quarter of the distance to
    // the nearest other body (no planet swallows its moons) and half the distance to the camera.
    const names = [...f.bodies.keys()];
    const nearest = new Map<string, number>();
    for (const a of names) {
      const pa = f.bodies.get(a)!;
      let best = Infinity;
      for (const b of names) {
        if (a === b) continue;
        const pb = f.bodies.get(b)!;
        best = Math.min(best, Math.hypot(pa[0] - pb[0], pa[1] - pb[1], pa[2] - pb[2]));
      }
      nearest.set(a, best);
    }
    for (const [name, b] of this.bodies) {
      const p = f.bodies.get(name);
      b.mesh.visible = b.label.visible = !!p;
      if (!p) continue;
      rel(p, b.mesh.position);
      let r = b.catalog.radius;
      if (this.exaggerate) {
        r = Math.min(r * (name === this.starName ? 8 : 40), 0.25 * (nearest.get(name) ?? Infinity));
        const clearance = Math.min(b.mesh.position.distanceTo(this.camera.position), f.own ? b.mesh.position.distanceTo(ownRel) : Infinity) / k;
        r = Math.max(b.catalog.radius, Math.min(r, 0.5 * clearance));
      }
      b.radiusShown = r;
      b.mesh.scale.setScalar(r * k);
      b.label.position.copy(b.mesh.position);
      b.labelEl.classList.toggle("target", f.targetBody === name);
      if (b.catalog.name === this.starName) {
        this.sunLight.position.copy(b.mesh.position);
        this.sunGlow.visible = true;
        this.sunGlow.position.copy(b.mesh.position);
        this.sunGlow.scale.setScalar(r * 9 * k);
        glowAt = true;
      }
    }
    // Sunlight and the fill, from the true sizes (exaggerated bodies cast no bigger shadows).
    const sunPos = this.starName ? f.bodies.get(this.starName) : undefined;
    const sun: Sphere | null = sunPos ? { position: sunPos, radius: this.bodies.get(this.starName!)!.catalog.radius } : null;
    const casters: (Sphere & { obj: BodyObj })[] = [];
    for (const [name, b] of this.bodies) {
      const p = f.bodies.get(name);
      if (p && name !== this.starName) casters.push({ position: p, radius: b.catalog.radius, obj: b });
    }
    this.ownSunlit = f.own && sun ? sunVisibility(f.own.position, sun, casters) : 1;
    this.ownSunVisibility.value = this.ownSunlit;
    this.updateFill(map ? null : (f.own?.position ?? null), sun, casters);

    // Labels only for bodies big enough to matter from here (moons declutter in the map).
    const camDist = map ? this.map.distance : 0;
    for (const b of this.bodies.values()) {
      if (!b.mesh.visible) continue;
      const moon = b.catalog.kind === "moon";
      const hide = map && moon && camDist > 5e10 && f.targetBody !== b.catalog.name;
      b.label.visible = !hide;
    }

    // Orbit lines (map only: at cockpit distances float32 line vertices would be coarse).
    for (const [name, ol] of this.orbitLines) {
      const parent = f.bodies.get(ol.parent);
      const moonOfPlanet = this.bodies.get(name)?.catalog.kind === "moon";
      ol.line.visible = map && !!parent && !(moonOfPlanet && camDist > 5e10);
      if (parent) rel(parent, ol.line.position);
      ol.line.scale.setScalar(k);
    }

    // Prediction line, relative to its reference body.
    // (Not in the cockpit, where it would only be a line hanging from the prograde marker.)
    // The vertices are recomputed in f64 relative to the origin each frame, so the line right next
    // to your ship is as precise as the ship itself (no float32 rounding of a 7000 km offset).
    if (this.predictionRef) {
      const ref = f.bodies.get(this.predictionRef);
      this.prediction.visible = !!ref && this.mode !== "cockpit";
      if (ref && this.prediction.visible) {
        const attr = this.prediction.geometry.getAttribute("position") as THREE.BufferAttribute;
        const a = attr.array as Float32Array;
        const bx = ref[0] - o[0];
        const by = ref[1] - o[1];
        const bz = ref[2] - o[2];
        // Your ship, then the lead-in arc up to the first server point still ahead, then those.
        let n = 0;
        const put = (x: number, y: number, z: number) => {
          a[n * 3] = x;
          a[n * 3 + 1] = y;
          a[n * 3 + 2] = z;
          n++;
        };
        const lead = f.predictionLead;
        if (f.own) put(ownRel.x, ownRel.y, ownRel.z);
        for (const p of lead?.points.slice(0, MAX_LEAD) ?? []) put((bx + p[0]) * k, (by + p[1]) * k, (bz + p[2]) * k);
        for (const p of this.predictionPoints.slice(lead?.from ?? 0)) put((bx + p[0]) * k, (by + p[1]) * k, (bz + p[2]) * k);
        this.prediction.geometry.setDrawRange(0, n);
        attr.needsUpdate = true;
        this.prediction.position.set(0, 0, 0);
      }
    }

    // Your ship.
    if (f.own) {
      rel(f.own.position, this.ownShip.position);
      this.ownShip.scale.setScalar(k);
      toThreeQ(f.own.attitude, this.ownShip.quaternion);
      const t = f.own.throttle;
      this.flame.visible = t > 0.001;
      this.flame.scale.set(0.6 + 0.4 * t, 0.6 + 0.4 * t, 6 + 26 * t * (0.9 + 0.1 * Math.sin(performance.now() / 40)));
      this.ownInView = this.mode === "chase";
      this.ownShip.visible = this.ownInView && !this.hideOwnShip;
      this.ownLabel.visible = map;
      this.ownLabel.position.copy(this.ownShip.position);
    } else {
      this.ownInView = false;
      this.ownShip.visible = false;
      this.ownLabel.visible = false;
    }

    // Other ships.
    const sunAttr = this.otherShips.geometry.getAttribute("instanceSunVisibility") as THREE.InstancedBufferAttribute;
    let n = 0;
    const seen = new Set<string>();
    for (const s of f.ships) {
      if (n >= MAX_SHIP_INSTANCES) break;
      rel(s.position, tmpV);
      toThreeQ(s.attitude);
      tmpM.compose(tmpV, tmpQ, new THREE.Vector3(k, k, k));
      // The beacon sits on top of the fin, clear of the hull.
      const top = BEACON_OFFSET.clone().applyQuaternion(tmpQ).multiplyScalar(k).add(tmpV);
      (this.beacons.geometry.getAttribute("position").array as Float32Array).set([top.x, top.y, top.z], n * 3);
      sunAttr.setX(n, sun ? sunVisibility(s.position, sun, casters) : 1);
      this.otherShips.setMatrixAt(n++, tmpM);
      // In a zoomed-out map ship names would pile up on their planet: only the target keeps one.
      if (s.target || (s.label && !(map && this.map.distance > 5e8))) {
        seen.add(s.id);
        let l = this.shipLabels.get(s.id);
        if (!l) {
          const el = document.createElement("div");
          el.className = "label ship";
          const obj = new CSS2DObject(el);
          obj.center.set(0, 1.2);
          this.scene.add(obj);
          l = { obj, el };
          this.shipLabels.set(s.id, l);
        }
        const dist = f.own ? Math.hypot(s.position[0] - f.own.position[0], s.position[1] - f.own.position[1], s.position[2] - f.own.position[2]) : 0;
        const text = `${s.name} · ${dist < 1e4 ? dist.toFixed(0) + " m" : (dist / 1000).toFixed(0) + " km"}`;
        if (l.el.textContent !== text) l.el.textContent = text;
        l.el.classList.toggle("target", s.target);
        l.obj.position.copy(tmpV);
      }
    }
    this.otherShips.count = n;
    this.otherShips.instanceMatrix.needsUpdate = true;
    sunAttr.needsUpdate = true;
    this.beacons.geometry.setDrawRange(0, n);
    this.beacons.geometry.getAttribute("position").needsUpdate = true;
    for (const [id, l] of this.shipLabels) {
      if (!seen.has(id)) {
        this.scene.remove(l.obj);
        l.el.remove();
        this.shipLabels.delete(id);
      }
    }

    cam.updateProjectionMatrix();
    this.lastFrameMs = performance.now();
    this.lastMode = this.mode;
    this.stars.position.copy(cam.position);
    this.stars.scale.setScalar(map ? 100 : 1e9);

    if (glowAt) this.sunGlow.quaternion.copy(cam.quaternion);
    // Atmospheres need the Sun's direction in view space.
    cam.updateMatrixWorld();
    const sunWorld = this.sunLight.position;
    for (const b of this.bodies.values()) {
      if (!b.atmosphere || !b.mesh.visible) continue;
      const u = (b.atmosphere.material as THREE.ShaderMaterial).uniforms.sunView.value as THREE.Vector3;
      u.copy(sunWorld).sub(b.mesh.position).normalize().transformDirection(cam.matrixWorldInverse);
    }
    this.renderer.render(this.scene, cam);
    this.labels.render(this.scene, cam);
  }

  /**
   * The fill light, a hemisphere light around the body that fills most of the sky seen from
   * `viewpoint` (your ship; in the map there is none, and the fill is plain starlight). Sky
   * colour: starlight. Ground colour (that body's side): the starlight it does not hide, plus
   * the sunlight it reflects (planetshine, in its tint) — dark over the night side, so a ship in
   * the shadow is still shaded top to bottom.
   */
  private updateFill(viewpoint: Vec3 | null, sun: Sphere | null, casters: (Sphere & { obj: BodyObj })[]): void {
    this.fill.color.copy(STARLIGHT);
    this.fill.groundColor.copy(STARLIGHT);
    this.planetshine = 0;
    if (!viewpoint || !sun) return;
    // The body that fills most of the sky: it hides stars and reflects sunlight.
    let best: (Sphere & { obj: BodyObj }) | null = null;
    let size = 0;
    for (const c of casters) {
      const d = Math.hypot(viewpoint[0] - c.position[0], viewpoint[1] - c.position[1], viewpoint[2] - c.position[2]);
      const solid = Math.min(1, (c.radius / Math.max(d, c.radius)) ** 2);
      if (solid > size) {
        size = solid;
        best = c;
      }
    }
    if (!best) return;
    this.fill.position.set(viewpoint[0] - best.position[0], viewpoint[1] - best.position[1], viewpoint[2] - best.position[2]).normalize();
    this.fill.groundColor.multiplyScalar(1 - (1 - PLANET_SIDE_STARLIGHT) * size);
    const shine = (this.planetshine = planetshine(viewpoint, best, sun.position, PLANET_ALBEDO));
    if (shine <= 0) return;
    // The planet's colour, normalised to unit luminance and whitened (clouds, haze).
    const tint = new THREE.Color(best.obj.catalog.color || 0xffffff);
    const lum = Math.max(0.05, 0.2126 * tint.r + 0.7152 * tint.g + 0.0722 * tint.b);
    tint.multiplyScalar(1 / lum).lerp(new THREE.Color(1, 1, 1), 0.5);
    this.fill.groundColor.add(tint.multiplyScalar(shine * SUN_INTENSITY));
  }

  /** Test/debug switch: leave your ship out of the chase view (to see which pixels are the ship). */
  hideOwnShip = false;
  /** Whether the last frame had your ship in view (chase camera), drawn or hidden. */
  private ownInView = false;

  /** The camera's forward, right and up directions (world, unit) in the last frame. */
  cameraAxes(): { forward: Vec3; right: Vec3; up: Vec3 } {
    const q = this.camera.quaternion;
    const axis = (x: number, y: number, z: number): Vec3 => {
      const v = new THREE.Vector3(x, y, z).applyQuaternion(q);
      return [v.x, v.y, v.z];
    };
    return { forward: axis(0, 0, -1), right: axis(1, 0, 0), up: axis(0, 1, 0) };
  }

  /** Planetshine on your ship this frame, as a fraction of direct sunlight (0 in the map). */
  planetshine = 0;

  /** How much of the Sun's disc your ship sees: 1 in sunlight, 0 in a planet's shadow. */
  get ownSunlight(): number {
    return this.ownSunlit;
  }

  /**
   * Where your ship's model is on the canvas this frame, in CSS pixels (clamped to the canvas), or
   * null when it is not drawn (cockpit, map) or behind the camera. For tests and debugging.
   */
  ownShipScreenRect(): { x: number; y: number; width: number; height: number } | null {
    if (!this.ownInView) return null;
    const w = this.renderer.domElement.clientWidth;
    const h = this.renderer.domElement.clientHeight;
    const box = new THREE.Box3();
    this.ownShip.updateMatrixWorld(true);
    for (const m of this.ownHull) box.expandByObject(m);
    if (box.isEmpty()) return null;
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    const camInv = this.camera.matrixWorldInverse;
    for (let i = 0; i < 8; i++) {
      tmpV.set(i & 1 ? box.max.x : box.min.x, i & 2 ? box.max.y : box.min.y, i & 4 ? box.max.z : box.min.z);
      if (tmpV.clone().applyMatrix4(camInv).z >= -this.camera.near) return null; // behind the camera
      tmpV.project(this.camera);
      x0 = Math.min(x0, ((tmpV.x + 1) / 2) * w);
      x1 = Math.max(x1, ((tmpV.x + 1) / 2) * w);
      y0 = Math.min(y0, ((1 - tmpV.y) / 2) * h);
      y1 = Math.max(y1, ((1 - tmpV.y) / 2) * h);
    }
    x0 = Math.max(0, x0);
    y0 = Math.max(0, y0);
    x1 = Math.min(w, x1);
    y1 = Math.min(h, y1);
    if (x1 <= x0 || y1 <= y0) return null;
    return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  }

  private chaseQ = new THREE.Quaternion(0, 0, 0, 0);
  private lastFrameMs = performance.now();
  private lastMode: CameraMode = "chase";

  /** Metres per scene unit this frame (1 near your ship; the camera distance in the map). */
  unit = 1;

  /** Radius as drawn (exaggerated or true). */
  shownRadius(name: string): number | null {
    return this.bodies.get(name)?.radiusShown ?? null;
  }
}
