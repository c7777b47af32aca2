#!/usr/bin/env python3
"""REBOUND reference timings for Galaxy's bench summary.

What it measures
----------------
Wall-clock seconds per integration step of REBOUND (https://rebound.readthedocs.io,
written against REBOUND 5.2.2 from PyPI) for three fixed workloads.  Each figure is
the median over ``--repeats`` repetitions, taken after a warm-up; each repetition
runs ``sim.steps(k)`` (k steps in one C call, checked against ``sim.steps_done``)
and divides by k.  k is picked so that a repetition lasts about ``--rep-seconds``.

* ``direct_16384``: ``gravity='basic'`` (direct summation), ``integrator='leapfrog'``
  (order 2, drift-kick-drift), N = 16384 Plummer sphere, G = 1, softening 0.01,
  dt = 1e-3.  Also reports ``interactions_per_second`` = N*N / seconds_per_step.
  REBOUND's order-2 leapfrog evaluates gravity once per step; the script checks
  this at start-up by counting ``additional_forces`` callbacks and reports the
  count as ``force_evaluations_per_step``.  REBOUND's serial ``basic`` loop uses
  Newton's third law, so it evaluates N(N-1)/2 pair kernels per step: see
  ``pair_evaluations_per_second``.  N*N is a count of interactions by convention,
  not of REBOUND's own kernel calls.
* ``test_particles_9_100000``: a Sun (m = 1) and 8 planets (m = 1e-6 .. 1e-3,
  log spaced, on circular orbits at radii 0.4 .. 30, log spaced, random phases),
  plus 100000 massless test particles on near-circular orbits around the Sun
  (radius uniform in [0.5, 40], inclinations below 0.05 rad, speed within 2 % of
  circular).  ``sim.N_active = 9``, ``sim.testparticle_type = 0`` (test particles
  feel the massive bodies but do not act on them), ``gravity='basic'``,
  ``integrator='leapfrog'``, G = 1, no softening, dt = 1e-3.  ``interactions_per_second``
  = N_total * N_active / seconds_per_step.
* ``tree_16384``: ``gravity='tree'`` (Barnes-Hut), ``opening_angle2 = 0.25``
  (theta = 0.5), the same N = 16384 Plummer sphere, softening 0.01, dt = 1e-3,
  leapfrog.  REBOUND 5.x has no ``configure_box()`` in Python; the box is set with
  ``sim.root_size`` (one root box), before any particle is added.  It is 2.5 times
  the largest coordinate, so no particle can leave it during the measurement (REBOUND
  stops with "Particle is outside of simulation box" if one does).
  ``interactions_per_second`` is null: the tree does not count its interactions.

Inputs
------
The Plummer sphere is made by this script (``plummer_sphere``) from a seeded
``numpy.random.default_rng(seed)`` (``--seed``, default 42).  It uses the
Aarseth, Henon & Wielen (1974) sampling in N-body units: G = 1, total mass 1,
equal masses, radii from the inverse cumulative mass with the outermost 0.1 % of mass
cut off, speeds by von Neumann rejection from g(q) = q^2 (1 - q^2)^(7/2).  It is then
scaled by the standard factors (length 3*pi/16, velocity sqrt(16/(3*pi))) so that
E = -1/4, and moved to the centre-of-mass frame.  The test-particle disc uses the same generator,
seeded with ``seed + 1``.

Threads
-------
The PyPI wheel of REBOUND is built without OpenMP: librebound links only libc and
libpthread, and ``rebound.omp_set_num_threads`` prints "Cannot set number of
OpenMP threads. Recompile with OpenMP."  So every figure here comes from one core.  The
script also sets OMP_NUM_THREADS=1 before importing rebound, and it calls
``rebound.omp_set_num_threads(1)`` if it finds an OpenMP runtime loaded (for a
build from source with OPENMP=1).  It reports what it found as ``openmp_runtime_loaded``.

How to run
----------
    pip install rebound==5.2.2 numpy
    python3 benches/reference/rebound_reference.py            # readable table
    python3 benches/reference/rebound_reference.py --json     # one JSON object on stdout
    python3 benches/reference/rebound_reference.py --only direct_16384,tree_16384 --repeats 3

With ``--json``, stdout holds exactly one JSON object, and nothing else:
    {"rebound_version": "5.2.2", ...,
     "measurements": {"direct_16384": {"n": 16384, "seconds_per_step": ...,
                                        "interactions_per_second": ..., ...}, ...}}
Anything the C library prints is sent to stderr.  Exit codes: 0 ok; 2 bad
arguments; 3 REBOUND (or numpy) cannot be imported, which means "REBOUND not available";
1 any other failure.

With the defaults the script runs in about 25 to 35 s on a 2-core machine.

Use of the figures
------------------
These absolute timings mean little on their own, because they depend on the machine, its load, and
the compiler flags of the wheel.  Galaxy's bench summary runs this script in the same run
as its own benchmarks.  It uses the figures only as a ratio: Galaxy time divided by REBOUND
time for the same workload on the same machine.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

# Keep every library single-threaded.  This only matters for an OpenMP build of
# REBOUND, or for numpy's BLAS; numpy is not used inside the timed region.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

EXIT_UNAVAILABLE = 3

G = 1.0
DT = 1e-3
SOFTENING = 0.01
N_PLUMMER = 16384
N_PLANETS = 8
N_TEST = 100_000
OPENING_ANGLE2 = 0.25

MEASUREMENTS = ("direct_16384", "test_particles_9_100000", "tree_16384")


def log(msg, enabled=True):
    if enabled:
        print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Initial conditions
# --------------------------------------------------------------------------------------

def _isotropic(rng, n):
    """n unit vectors drawn uniformly on the sphere, shape (n, 3)."""
    cos_t = rng.uniform(-1.0, 1.0, n)
    sin_t = np.sqrt(1.0 - cos_t * cos_t)
    phi = rng.uniform(0.0, 2.0 * np.pi, n)
    return np.stack((sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t), axis=1)


def plummer_sphere(n, seed, mass_cut=0.999):
    """Plummer sphere, Aarseth-Henon-Wielen (1974) sampling, N-body units.

    Returns (m, pos, vel) with m of shape (n,), and pos and vel of shape (n, 3).  G = 1,
    total mass 1, E = -1/4 (the virial radius is 1) after the standard scaling, and
    the centre-of-mass frame.
    """
    rng = np.random.default_rng(seed)
    m = np.full(n, 1.0 / n)

    # Radius from the enclosed mass fraction X in (0, mass_cut]: M(r) = r^3 (1 + r^2)^(-3/2)
    # in units where the Plummer scale length a is 1.
    x = mass_cut * (1.0 - rng.random(n))
    r = 1.0 / np.sqrt(x ** (-2.0 / 3.0) - 1.0)
    pos = r[:, None] * _isotropic(rng, n)

    # Speed: v = q * v_esc(r), v_esc = sqrt(2) (1 + r^2)^(-1/4), where q is drawn from
    # g(q) = q^2 (1 - q^2)^(7/2) by rejection (max g is about 0.092, so 0.1 bounds it).
    q = np.empty(n)
    todo = np.arange(n)
    while todo.size:
        q_try = rng.random(todo.size)
        y_try = 0.1 * rng.random(todo.size)
        ok = y_try < q_try ** 2 * (1.0 - q_try ** 2) ** 3.5
        q[todo[ok]] = q_try[ok]
        todo = todo[~ok]
    v = q * np.sqrt(2.0) * (1.0 + r * r) ** (-0.25)
    vel = v[:, None] * _isotropic(rng, n)

    # Scale to standard N-body units (E = -1/4): r *= 3 pi / 16 and v *= sqrt(16 / (3 pi)).
    pos *= 3.0 * np.pi / 16.0
    vel *= np.sqrt(16.0 / (3.0 * np.pi))

    # Centre-of-mass frame.
    pos -= (m[:, None] * pos).sum(axis=0) / m.sum()
    vel -= (m[:, None] * vel).sum(axis=0) / m.sum()
    return m, pos, vel


def planetary_system(n_test, seed):
    """A Sun, 8 planets and n_test test particles; returns (m, pos, vel) with the
    massive bodies first."""
    rng = np.random.default_rng(seed)
    m_planets = np.geomspace(1e-6, 1e-3, N_PLANETS)
    a_planets = np.geomspace(0.4, 30.0, N_PLANETS)

    def circular(radius, speed, phase, inc, node):
        """Positions and velocities on circles in a plane with the given inclination and node."""
        c, s = np.cos(phase), np.sin(phase)
        p = np.stack((radius * c, radius * s, np.zeros_like(radius)), axis=1)
        u = np.stack((-speed * s, speed * c, np.zeros_like(radius)), axis=1)
        ci, si, cn, sn = np.cos(inc), np.sin(inc), np.cos(node), np.sin(node)

        def rot(w):
            # First rotate about the x axis by inc, then about the z axis by node.
            x, y, z = w[:, 0], w[:, 1] * ci - w[:, 2] * si, w[:, 1] * si + w[:, 2] * ci
            return np.stack((x * cn - y * sn, x * sn + y * cn, z), axis=1)

        return rot(p), rot(u)

    zeros = np.zeros(N_PLANETS)
    p_pos, p_vel = circular(a_planets, np.sqrt(G * (1.0 + m_planets) / a_planets),
                            rng.uniform(0.0, 2.0 * np.pi, N_PLANETS), zeros, zeros)

    r_test = rng.uniform(0.5, 40.0, n_test)
    v_test = np.sqrt(G / r_test) * rng.uniform(0.98, 1.02, n_test)
    t_pos, t_vel = circular(r_test, v_test, rng.uniform(0.0, 2.0 * np.pi, n_test),
                            rng.uniform(0.0, 0.05, n_test), rng.uniform(0.0, 2.0 * np.pi, n_test))

    m = np.concatenate(([1.0], m_planets, np.zeros(n_test)))
    pos = np.concatenate((np.zeros((1, 3)), p_pos, t_pos))
    vel = np.concatenate((np.zeros((1, 3)), p_vel, t_vel))
    return m, pos, vel


def add_particles(sim, m, pos, vel):
    Particle = rebound.Particle
    for i in range(len(m)):
        x, y, z = pos[i]
        vx, vy, vz = vel[i]
        sim.add(Particle(m=float(m[i]), x=float(x), y=float(y), z=float(z),
                         vx=float(vx), vy=float(vy), vz=float(vz)))


# --------------------------------------------------------------------------------------
# Simulations
# --------------------------------------------------------------------------------------

def make_direct(seed):
    m, pos, vel = plummer_sphere(N_PLUMMER, seed)
    sim = rebound.Simulation()
    sim.G = G
    sim.gravity = "basic"
    sim.integrator = "leapfrog"
    sim.integrator.order = 2
    sim.softening = SOFTENING
    sim.dt = DT
    add_particles(sim, m, pos, vel)
    return sim, {"n": N_PLUMMER}


def make_test_particles(seed):
    m, pos, vel = planetary_system(N_TEST, seed + 1)
    sim = rebound.Simulation()
    sim.G = G
    sim.gravity = "basic"
    sim.integrator = "leapfrog"
    sim.integrator.order = 2
    sim.dt = DT
    add_particles(sim, m, pos, vel)
    sim.N_active = 1 + N_PLANETS
    sim.testparticle_type = 0
    sim.move_to_com()  # only the massive bodies carry mass
    return sim, {"n": sim.N, "n_active": 1 + N_PLANETS, "n_test": N_TEST}


def make_tree(seed):
    m, pos, vel = plummer_sphere(N_PLUMMER, seed)
    sim = rebound.Simulation()
    sim.G = G
    sim.gravity = "tree"
    sim.opening_angle2 = OPENING_ANGLE2
    sim.integrator = "leapfrog"
    sim.integrator.order = 2
    sim.softening = SOFTENING
    sim.dt = DT
    # REBOUND 5.x's replacement for configure_box(): one root box of side root_size,
    # centred on the origin.  It must be set before particles are added.
    box = 2.5 * float(np.abs(pos).max())
    sim.root_size = box
    sim.N_root_x = sim.N_root_y = sim.N_root_z = 1
    add_particles(sim, m, pos, vel)
    return sim, {"n": N_PLUMMER, "opening_angle2": OPENING_ANGLE2, "root_size": box}


BUILDERS = {
    "direct_16384": make_direct,
    "test_particles_9_100000": make_test_particles,
    "tree_16384": make_tree,
}


def force_evaluations_per_leapfrog_step():
    """Count gravity evaluations per step of the order-2 leapfrog, using additional_forces,
    which REBOUND calls once after each gravity evaluation."""
    sim = rebound.Simulation()
    sim.integrator = "leapfrog"
    sim.integrator.order = 2
    sim.dt = DT
    sim.add(m=1.0)
    sim.add(m=1e-3, x=1.0, vy=1.0)
    calls = [0]

    def counter(_sim_pointer):
        calls[0] += 1

    sim.additional_forces = counter
    sim.steps(1)  # REBOUND may do set-up work on the first step
    calls[0] = 0
    sim.steps(100)
    return calls[0] / 100.0


def run_steps(sim, k):
    """Run exactly k steps and return the elapsed wall-clock seconds."""
    before = sim.steps_done
    t0 = time.perf_counter()
    sim.steps(k)
    elapsed = time.perf_counter() - t0
    done = sim.steps_done - before
    if done != k:
        raise RuntimeError(f"asked REBOUND for {k} steps, it did {done}")
    return elapsed


def measure(name, seed, repeats, rep_seconds, verbose):
    t_setup = time.perf_counter()
    sim, info = BUILDERS[name](seed)
    setup_seconds = time.perf_counter() - t_setup

    # Warm-up: the first step allocates buffers (and builds the tree); the second calibrates k.
    run_steps(sim, 1)
    one = run_steps(sim, 1)
    k = max(1, int(round(rep_seconds / max(one, 1e-9))))
    log(f"  {name}: setup {setup_seconds:.2f} s, ~{one:.4g} s/step, "
        f"{repeats} x {k} steps", verbose)

    samples = [run_steps(sim, k) / k for _ in range(repeats)]
    sps = statistics.median(samples)

    out = dict(info)
    out["seconds_per_step"] = sps
    if name == "direct_16384":
        n = info["n"]
        out["interactions_per_second"] = n * n / sps
        out["pair_evaluations_per_second"] = n * (n - 1) / 2 / sps
    elif name == "test_particles_9_100000":
        out["interactions_per_second"] = info["n"] * info["n_active"] / sps
    else:
        out["interactions_per_second"] = None
    out["steps_per_repeat"] = k
    out["repeats"] = repeats
    out["samples_seconds_per_step"] = samples
    out["min_seconds_per_step"] = min(samples)
    out["setup_seconds"] = setup_seconds
    del sim
    return out


def openmp_runtime_loaded():
    """Whether an OpenMP runtime (libgomp, libomp or libiomp) is mapped into this process.  Linux only."""
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return None
    return any(lib in maps for lib in ("libgomp", "libomp", "libiomp"))


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Time REBOUND on Galaxy's reference workloads (seconds per step).")
    ap.add_argument("--json", action="store_true",
                    help="print one JSON object on stdout and nothing else")
    ap.add_argument("--only", default=None,
                    help="comma-separated subset of: " + ", ".join(MEASUREMENTS))
    ap.add_argument("--repeats", type=int, default=5,
                    help="timed repetitions per measurement; the median is reported (default 5)")
    ap.add_argument("--rep-seconds", type=float, default=1.0,
                    help="target wall-clock length of one repetition (default 1.0)")
    ap.add_argument("--seed", type=int, default=42, help="RNG seed (default 42)")
    ap.add_argument("--verbose", action="store_true",
                    help="print progress on stderr (always on without --json)")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    if args.rep_seconds <= 0:
        ap.error("--rep-seconds must be > 0")
    if args.only:
        names = [s.strip() for s in args.only.split(",") if s.strip()]
        bad = [s for s in names if s not in MEASUREMENTS]
        if bad or not names:
            ap.error("unknown measurement(s) %s; choose from %s"
                     % (", ".join(bad) or "(none)", ", ".join(MEASUREMENTS)))
        args.names = [s for s in MEASUREMENTS if s in names]
    else:
        args.names = list(MEASUREMENTS)
    return args


def print_table(result):
    print(f"REBOUND {result['rebound_version']} ({result['rebound_githash'][:10]}), "
          f"Python {result['python_version']}, numpy {result['numpy_version']}, "
          f"single-threaded (OpenMP runtime loaded: {result['openmp_runtime_loaded']})")
    print(f"leapfrog gravity evaluations per step: {result['force_evaluations_per_step']:g}")
    print()
    print(f"{'measurement':<26} {'N':>8} {'s/step':>12} {'steps x reps':>13} {'interactions/s':>15}")
    for name, m in result["measurements"].items():
        ips = m["interactions_per_second"]
        ips_s = f"{ips:.3e}" if ips is not None else "-"
        print(f"{name:<26} {m['n']:>8} {m['seconds_per_step']:>12.4e} "
              f"{str(m['steps_per_repeat']) + ' x ' + str(m['repeats']):>13} {ips_s:>15}")
    d = result["measurements"].get("direct_16384")
    if d:
        print(f"\ndirect_16384: {d['pair_evaluations_per_second']:.3e} pair kernels/s "
              "(REBOUND's serial basic gravity uses Newton's third law: N(N-1)/2 pairs per step)")
    print(f"\ntotal script time: {result['total_seconds']:.1f} s")


def main(argv=None):
    t_start = time.perf_counter()
    args = parse_args(sys.argv[1:] if argv is None else argv)

    global rebound, np
    try:
        import numpy as np
    except ImportError as e:
        print(f"rebound_reference: numpy is not importable ({e}); REBOUND reference unavailable. "
              "Install with: pip install rebound==5.2.2 numpy", file=sys.stderr)
        return EXIT_UNAVAILABLE
    try:
        import rebound
    except Exception as e:  # ImportError, or an OSError while loading librebound
        print(f"rebound_reference: REBOUND is not importable ({type(e).__name__}: {e}). "
              "Install with: pip install rebound==5.2.2 numpy", file=sys.stderr)
        return EXIT_UNAVAILABLE

    # With --json, fd 1 must carry only the JSON object.  Keep a copy of it and point fd 1 at
    # stderr, so that anything printed by Python or by the C library goes to stderr.
    json_out = None
    if args.json:
        sys.stdout.flush()
        json_out = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
    verbose = args.verbose or not args.json

    if not rebound.__version__.startswith("5."):
        log(f"rebound_reference: warning: written for REBOUND 5.2.2, found {rebound.__version__}")

    omp = openmp_runtime_loaded()
    if omp:
        rebound.omp_set_num_threads(1)
        log("rebound_reference: OpenMP runtime found; REBOUND limited to 1 thread", verbose)

    try:
        fe = force_evaluations_per_leapfrog_step()
        if fe != 1.0:
            log(f"rebound_reference: warning: leapfrog did {fe} gravity evaluations per step "
                "(expected 1)")
        log(f"REBOUND {rebound.__version__}: timing {', '.join(args.names)} "
            f"(median of {args.repeats})", verbose)
        measurements = {}
        for name in args.names:
            measurements[name] = measure(name, args.seed, args.repeats, args.rep_seconds, verbose)
    except Exception as e:
        print(f"rebound_reference: measurement failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1

    result = {
        "rebound_version": rebound.__version__,
        "rebound_githash": rebound.__githash__,
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "openmp_runtime_loaded": omp,
        "threads": 1,
        "force_evaluations_per_step": fe,
        "seed": args.seed,
        "dt": DT,
        "measurements": measurements,
        "total_seconds": time.perf_counter() - t_start,
    }
    if json_out is not None:
        json_out.write(json.dumps(result) + "\n")
        json_out.flush()
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
