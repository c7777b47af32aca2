#!/usr/bin/env python3
"""Write Galaxy's solar-system data files from the JPL DE421 ephemeris.

Outputs (committed; the game and ``galaxy-sim`` embed them, so Python is never needed at run time)
---------------------------------------------------------------------------------------------------
``data/solar_system/de421_j2000.csv``
    Initial conditions at J2000.0 (JD 2451545.0 TDB) of the Sun, the eight planets and the Moon:
    ``name,gm,x,y,z,vx,vy,vz`` with GM in m^3/s^2, positions in m, velocities in m/s,
    barycentric (solar-system barycentre), in the ICRF equatorial frame exactly as DE421 gives
    it (no rotation to the ecliptic here; the catalog does that in Rust).
``data/solar_system/de421_reference.csv``
    Reference barycentric positions of the same ten bodies, ``days,name,x,y,z`` (days since
    J2000 TDB, positions in m rounded to the metre), every 10 days from day 0 to day 3650, plus
    every Julian-year mark (365.25 k days, k = 1..10) so errors can be read at whole years.

Inputs
------
* PyPI ``de421`` 2008.1: DE421's Chebyshev coefficients as ``.npy`` files for the older
  ``jplephem.Ephemeris`` API (the module ``jplephem.ephem``), and DE421's header constants
  (``constants.npy``).  Positions come out in km, velocities in km/day, time argument TDB
  Julian date (split as ``2451545.0 + days`` to keep precision).
* PyPI ``jplephem`` 2.24: the evaluator.
* Constants taken from DE421's header: ``AU`` (km), ``GMS``, ``GM1``, ``GM2``, ``GMB``,
  ``GM4`` .. ``GM8`` (AU^3/day^2) and ``EMRAT`` (Earth/Moon mass ratio).  GMs are converted
  with DE421's own AU and 86,400 s per day.

DE421 conventions this script resolves
--------------------------------------
* ``sun``, ``mercury``, ``venus`` are barycentric positions of those bodies.
* ``earthmoon`` is the Earth-Moon barycentre (EMB); ``moon`` is *geocentric*.  So
  Earth = EMB - moon / (1 + EMRAT) and Moon = Earth + moon.  GM_earth = GMB EMRAT/(1 + EMRAT),
  GM_moon = GMB/(1 + EMRAT).
* ``mars`` .. ``neptune`` are the *system* barycentres (planet plus its moons) and ``GM4`` ..
  ``GM8`` are system GMs.  They are written under the planet's name; the Rust catalog places
  the planet and its major moons around that barycentre.
* DE421 also integrates Pluto and 343 asteroids; they are not written (the validation
  integrates the ten bodies above only), so the ten bodies' centre of mass is not exactly at
  the origin: 33 km from it at J2000, moving at 5e-5 m/s.

Run (from the repository root, or anywhere)::

    pip install -r tools/ephemeris/requirements.txt
    python3 tools/ephemeris/generate.py            # rewrites both files
    python3 tools/ephemeris/generate.py --check    # exits 1 if the committed files differ

The output is deterministic: the same package versions write byte-identical files.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

try:
    import de421
    from jplephem.ephem import Ephemeris
except ImportError as error:  # pragma: no cover - depends on the machine
    sys.exit(f"generate.py needs jplephem and de421 ({error}); "
             "pip install -r tools/ephemeris/requirements.txt")

J2000_JULIAN_DATE = 2451545.0
SECONDS_PER_DAY = 86400.0
METRES_PER_KILOMETRE = 1000.0
REFERENCE_STEP_DAYS = 10
REFERENCE_SPAN_DAYS = 3650
JULIAN_YEAR_DAYS = 365.25
REFERENCE_YEARS = 10

# Galaxy's name, DE421 series, DE421 GM constant (None: derived from GMB and EMRAT).
PLANET_SERIES = [
    ("Mercury", "mercury", "GM1"),
    ("Venus", "venus", "GM2"),
    ("Mars", "mars", "GM4"),
    ("Jupiter", "jupiter", "GM5"),
    ("Saturn", "saturn", "GM6"),
    ("Uranus", "uranus", "GM7"),
    ("Neptune", "neptune", "GM8"),
]
BODY_ORDER = ["Sun", "Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune", "Moon"]

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
OUTPUT_DIRECTORY = REPOSITORY_ROOT / "data" / "solar_system"
INITIAL_CONDITIONS_FILE = OUTPUT_DIRECTORY / "de421_j2000.csv"
REFERENCE_FILE = OUTPUT_DIRECTORY / "de421_reference.csv"

SOURCE_LINES = [
    "Source: JPL planetary and lunar ephemeris DE421 (Folkner, Williams & Boggs 2009,",
    "IPN Progress Report 42-178), read with PyPI jplephem 2.24 (jplephem.ephem.Ephemeris)",
    "from PyPI de421 2008.1; GM values from DE421's header constants.",
    "Written by tools/ephemeris/generate.py; do not edit by hand, re-run the script.",
    "Frame: ICRF (equatorial), origin at the solar-system barycentre. Time: TDB.",
    "Earth = EMB - geocentric Moon/(1 + EMRAT); Moon = Earth + geocentric Moon.",
    "Mars..Neptune are DE421's system barycentres (planet plus moons) and system GMs.",
]


def gm_si(constant_au3_per_day2: float, astronomical_unit_km: float) -> float:
    """AU^3/day^2 (DE421's unit, with its own AU) to m^3/s^2."""
    metres_per_au = astronomical_unit_km * METRES_PER_KILOMETRE
    return constant_au3_per_day2 * metres_per_au**3 / SECONDS_PER_DAY**2


class De421:
    """Barycentric states of the ten bodies, SI units, at days since J2000 TDB."""

    def __init__(self) -> None:
        self.ephemeris = Ephemeris(de421)
        constants = self.ephemeris.__dict__
        astronomical_unit_km = float(constants["AU"])
        self.earth_moon_ratio = float(constants["EMRAT"])
        earth_moon_gm = gm_si(float(constants["GMB"]), astronomical_unit_km)
        self.gm = {
            "Sun": gm_si(float(constants["GMS"]), astronomical_unit_km),
            "Earth": earth_moon_gm * self.earth_moon_ratio / (1.0 + self.earth_moon_ratio),
            "Moon": earth_moon_gm / (1.0 + self.earth_moon_ratio),
        }
        for name, _series, constant in PLANET_SERIES:
            self.gm[name] = gm_si(float(constants[constant]), astronomical_unit_km)

    def _series(self, series: str, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions (3, n) in m and velocities (3, n) in m/s of one DE421 series."""
        position_km, velocity_km_per_day = self.ephemeris.position_and_velocity(series, J2000_JULIAN_DATE, days)
        return (position_km * METRES_PER_KILOMETRE,
                velocity_km_per_day * METRES_PER_KILOMETRE / SECONDS_PER_DAY)

    def states(self, days: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        states = {"Sun": self._series("sun", days)}
        for name, series, _constant in PLANET_SERIES:
            states[name] = self._series(series, days)
        barycentre_position, barycentre_velocity = self._series("earthmoon", days)
        geocentric_moon_position, geocentric_moon_velocity = self._series("moon", days)
        moon_share = 1.0 / (1.0 + self.earth_moon_ratio)
        earth_position = barycentre_position - geocentric_moon_position * moon_share
        earth_velocity = barycentre_velocity - geocentric_moon_velocity * moon_share
        states["Earth"] = (earth_position, earth_velocity)
        states["Moon"] = (earth_position + geocentric_moon_position, earth_velocity + geocentric_moon_velocity)
        return states


def header(title: str, columns: str) -> str:
    lines = [title, *SOURCE_LINES, columns]
    return "".join(f"# {line}\n" for line in lines)


def initial_conditions_text(ephemeris: De421) -> str:
    states = ephemeris.states(np.array([0.0]))
    text = header(
        "Galaxy: barycentric state of the Sun, the planets and the Moon at J2000.0 (JD 2451545.0 TDB).",
        "Columns: name, GM (m^3/s^2), position x y z (m), velocity vx vy vz (m/s).",
    )
    text += "name,gm,x,y,z,vx,vy,vz\n"
    for name in BODY_ORDER:
        position, velocity = states[name]
        values = [ephemeris.gm[name], *position[:, 0], *velocity[:, 0]]
        # repr() round-trips every f64 exactly.
        text += name + "," + ",".join(repr(float(value)) for value in values) + "\n"
    return text


def reference_days() -> np.ndarray:
    grid = np.arange(0, REFERENCE_SPAN_DAYS + 1, REFERENCE_STEP_DAYS, dtype=float)
    year_marks = JULIAN_YEAR_DAYS * np.arange(1, REFERENCE_YEARS + 1, dtype=float)
    return np.unique(np.concatenate([grid, year_marks]))


def reference_text(ephemeris: De421) -> str:
    days = reference_days()
    states = ephemeris.states(days)
    text = header(
        f"Galaxy: DE421 reference positions every {REFERENCE_STEP_DAYS} days for "
        f"{REFERENCE_SPAN_DAYS} days from J2000.0, plus each Julian year (365.25 d).",
        "Columns: days since J2000.0 TDB, name, barycentric position x y z (m, rounded to 1 m).",
    )
    text += "days,name,x,y,z\n"
    for index, day in enumerate(days):
        for name in BODY_ORDER:
            position = states[name][0][:, index]
            coordinates = ",".join(f"{value:.0f}" for value in position)
            text += f"{day:g},{name},{coordinates}\n"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    arguments = parser.parse_args()

    ephemeris = De421()
    outputs = {INITIAL_CONDITIONS_FILE: initial_conditions_text(ephemeris), REFERENCE_FILE: reference_text(ephemeris)}
    stale = []
    for path, text in outputs.items():
        if arguments.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(REPOSITORY_ROOT)} ({len(text.encode()):,} bytes)")
    if stale:
        for path in stale:
            print(f"out of date: {path.relative_to(REPOSITORY_ROOT)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
