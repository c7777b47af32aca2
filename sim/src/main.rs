//! `galaxy-sim`: generate seeded initial conditions and run the engine on them from files.
//!
//! ```text
//! galaxy-sim generate plummer --n 1024 --seed 1 --output ic.csv
//! galaxy-sim run --input ic.csv --output out.csv --dt 1e-3 --steps 1000 --softening 0.01 --report report.json
//! galaxy-sim validate solar-system --years 10 --dt 600 --gr --plot errors.svg
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use galaxy_engine::{GravityMethod, KernelPath};
use galaxy_sim::validate::{ValidationParams, validate_solar_system, write_error_plot};
use galaxy_sim::{InitialBody, RunParams, disk_galaxy, kepler, plummer, read_initial_conditions_file, uniform};

/// Generate seeded N-body initial conditions and run Galaxy's engine on them.
#[derive(Debug, Parser)]
#[command(name = "galaxy-sim", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write seeded initial conditions of a named scene to a CSV file.
    Generate(GenerateArgs),
    /// Integrate initial conditions from a CSV file and write the final state.
    Run(RunArgs),
    /// Compare the engine's orbits with a reference.
    #[command(subcommand)]
    Validate(ValidateTarget),
}

#[derive(Debug, Subcommand)]
enum ValidateTarget {
    /// Integrate the Sun, 8 planets and the Moon from JPL DE421 at J2000 and print each body's
    /// position error against DE421 after 1 and 10 years, and the energy drift.
    SolarSystem(ValidateSolarSystemArgs),
}

#[derive(Debug, clap::Args)]
struct ValidateSolarSystemArgs {
    /// Julian years to integrate (10 days' worth to 1000; errors are measured over the first 10).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_positive)]
    years: f64,
    /// Leapfrog step in seconds (at most 864000, the reference spacing), e.g. 600 for 10 minutes.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_positive)]
    dt: f64,
    /// Add the Sun's first post-Newtonian (general-relativistic) correction.
    #[arg(long)]
    gr: bool,
    /// Also draw the errors against time to this file (.svg or .png).
    #[arg(long)]
    plot: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct GenerateArgs {
    /// Scene to generate (G = 1 in all of them).
    scene: Scene,
    /// Number of bodies.
    #[arg(long, value_parser = parse_at_least_one)]
    n: u64,
    /// Random seed: the same seed gives the same file.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// CSV file to write (`id,mass,x,y,z,vx,vy,vz`).
    #[arg(long)]
    output: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Scene {
    /// A star of mass 1 and n − 1 light planets between radius 1 and 10.
    Kepler,
    /// A Plummer sphere in standard N-body units (M = 1, E = −1/4).
    Plummer,
    /// Equal masses at rest, uniform in the cube [−1, 1]³.
    Uniform,
    /// A rotating disk galaxy: exponential disk plus Plummer bulge (M = 1).
    Disk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GravityChoice {
    /// Every body on every body: exact, O(N²).
    Direct,
    /// A Barnes–Hut octree with quadrupoles, opening angle `--theta`: O(N log N).
    BarnesHut,
    /// Direct below the measured crossover size, Barnes–Hut (`--theta`) from there on.
    Auto,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Initial conditions (CSV: `id,mass,x,y,z,vx,vy,vz`).
    #[arg(long)]
    input: PathBuf,
    /// Where to write the final state, in the same format.
    #[arg(long)]
    output: PathBuf,
    /// Step length (> 0).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_positive)]
    dt: f64,
    /// Number of leapfrog steps (≥ 1).
    #[arg(long, value_parser = parse_at_least_one)]
    steps: u64,
    /// Plummer softening length (≥ 0).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = parse_non_negative)]
    softening: f64,
    /// Gravitational constant in the file's units (≥ 0).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true, value_parser = parse_non_negative)]
    g: f64,
    /// Threads (≥ 1); default: all cores.
    #[arg(long, value_parser = parse_thread_count)]
    threads: Option<NonZeroUsize>,
    /// Gravity kernel: auto, scalar, portable, avx2-fma or avx512.
    #[arg(long, default_value = "auto", value_parser = parse_kernel)]
    kernel: KernelChoice,
    /// How gravity is summed.
    #[arg(long, value_enum, default_value_t = GravityChoice::Direct)]
    gravity: GravityChoice,
    /// Barnes–Hut opening angle θ, in (0, 1.5]; only with `--gravity barnes-hut`.
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true, value_parser = parse_opening_angle)]
    theta: f64,
    /// Also write the run report as JSON to this file.
    #[arg(long)]
    report: Option<PathBuf>,
}

/// `None` means "auto": the fastest kernel this CPU supports.
#[derive(Debug, Clone, Copy)]
struct KernelChoice(Option<KernelPath>);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => generate(&args),
        Command::Run(args) => run(&args),
        Command::Validate(ValidateTarget::SolarSystem(args)) => validate(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn generate(args: &GenerateArgs) -> Result<()> {
    let n = usize::try_from(args.n).context("--n is too large for this machine")?;
    let bodies = match args.scene {
        Scene::Kepler => kepler(n, args.seed),
        Scene::Plummer => plummer(n, args.seed),
        Scene::Uniform => uniform(n, args.seed),
        Scene::Disk => disk_galaxy(n, args.seed),
    };
    write_bodies(&args.output, &bodies)
}

fn run(args: &RunArgs) -> Result<()> {
    let initial = read_initial_conditions_file(&args.input)
        .with_context(|| format!("reading initial conditions from {}", args.input.display()))?;
    let params = RunParams {
        dt: args.dt,
        steps: args.steps,
        softening: args.softening,
        gravitational_constant: args.g,
        threads: args.threads,
        kernel: args.kernel.0,
        gravity: match args.gravity {
            GravityChoice::Direct => GravityMethod::Direct,
            GravityChoice::BarnesHut => GravityMethod::BarnesHut { opening_angle: args.theta },
            GravityChoice::Auto => GravityMethod::Auto { opening_angle: args.theta },
        },
    };
    let outcome = galaxy_sim::run(&initial, &params).with_context(|| format!("running {}", args.input.display()))?;
    write_bodies(&args.output, &outcome.final_bodies)?;
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&outcome.report).context("encoding the report")?;
        std::fs::write(path, json + "\n").with_context(|| format!("writing the report to {}", path.display()))?;
    }
    println!("{}", outcome.report);
    Ok(())
}

fn validate(args: &ValidateSolarSystemArgs) -> Result<()> {
    let params = ValidationParams { years: args.years, step_seconds: args.dt, post_newtonian: args.gr };
    let report = validate_solar_system(&params).context("validating the solar system")?;
    println!("{report}");
    if let Some(path) = &args.plot {
        write_error_plot(&report, path).with_context(|| format!("plotting to {}", path.display()))?;
        println!("plot written to {}", path.display());
    }
    Ok(())
}

fn write_bodies(path: &Path, bodies: &[InitialBody]) -> Result<()> {
    let context = || format!("writing {}", path.display());
    let mut writer = BufWriter::new(File::create(path).with_context(context)?);
    galaxy_sim::write_initial_conditions(&mut writer, bodies).with_context(context)?;
    writer.flush().with_context(context)
}

fn parse_at_least_one(text: &str) -> Result<u64, String> {
    let value: u64 = text.parse().map_err(|_| format!("{text:?} is not a whole number"))?;
    if value >= 1 { Ok(value) } else { Err("must be at least 1".to_owned()) }
}

fn parse_thread_count(text: &str) -> Result<NonZeroUsize, String> {
    let value: usize = text.parse().map_err(|_| format!("{text:?} is not a whole number"))?;
    NonZeroUsize::new(value).ok_or_else(|| "must be at least 1".to_owned())
}

fn parse_positive(text: &str) -> Result<f64, String> {
    let value = parse_finite(text)?;
    if value > 0.0 { Ok(value) } else { Err(format!("must be greater than zero, got {value}")) }
}

fn parse_non_negative(text: &str) -> Result<f64, String> {
    let value = parse_finite(text)?;
    if value >= 0.0 { Ok(value) } else { Err(format!("must not be negative, got {value}")) }
}

fn parse_finite(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|_| format!("{text:?} is not a number"))?;
    if value.is_finite() { Ok(value) } else { Err(format!("must be finite, got {value}")) }
}

fn parse_opening_angle(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|_| format!("{text:?} is not a number"))?;
    if value > 0.0 && value <= 1.5 { Ok(value) } else { Err(format!("must be in (0, 1.5], got {value}")) }
}

fn parse_kernel(text: &str) -> Result<KernelChoice, String> {
    if text == "auto" {
        return Ok(KernelChoice(None));
    }
    let supported: Vec<_> =
        KernelPath::ALL.into_iter().filter(|path| path.is_supported()).map(KernelPath::name).collect();
    let path = KernelPath::from_name(text).ok_or_else(|| {
        let known: Vec<_> = KernelPath::ALL.into_iter().map(KernelPath::name).collect();
        format!("unknown kernel {text:?}; expected auto, {}", known.join(", "))
    })?;
    if path.is_supported() {
        Ok(KernelChoice(Some(path)))
    } else {
        Err(format!("this CPU does not support the {text} kernel; it supports auto, {}", supported.join(", ")))
    }
}
