//! The `galaxy-sim` binary, run as a physicist would: generated scenes integrate with small
//! energy error, the thread count never changes the output, and every bad file or flag fails
//! with a non-zero exit and a message that says where the problem is.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use galaxy_engine::KernelPath;

const HEADER: &str = "id,mass,x,y,z,vx,vy,vz\n";

/// A fresh directory for one test, removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test_name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("galaxy-sim-cli-{test_name}-{}-{unique}", std::process::id()));
        // A leftover from an aborted earlier run would only confuse this one.
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create scratch directory");
        Self(path)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    fn write(&self, file: &str, contents: &str) -> PathBuf {
        let path = self.path(file);
        fs::write(&path, contents).expect("write test input");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn galaxy_sim(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_galaxy-sim")).args(arguments).output().expect("start galaxy-sim")
}

fn text(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "galaxy-sim failed: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `arguments`, expects failure, and returns stderr.
fn failure_message(arguments: &[&str]) -> String {
    let output = galaxy_sim(arguments);
    assert!(!output.status.success(), "galaxy-sim {arguments:?} succeeded but should have failed");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.trim().is_empty(), "no error message on stderr");
    stderr
}

fn generate(scratch: &Scratch, scene: &str, n: &str, seed: &str, file: &str) -> PathBuf {
    let path = scratch.path(file);
    assert_success(&galaxy_sim(&["generate", scene, "--n", n, "--seed", seed, "--output", text(&path)]));
    path
}

/// `run` on `input` with a one-step integration; returns stderr, expecting failure.
fn run_failure_message(scratch: &Scratch, input: &Path) -> String {
    let output = scratch.path("out.csv");
    failure_message(&["run", "--input", text(input), "--output", text(&output), "--dt", "0.01", "--steps", "1"])
}

#[test]
fn plummer_run_writes_a_full_report_with_small_energy_error() {
    let scratch = Scratch::new("report");
    let input = generate(&scratch, "plummer", "256", "1", "ic.csv");
    let (output, report) = (scratch.path("out.csv"), scratch.path("report.json"));
    let run = galaxy_sim(&[
        "run",
        "--input",
        text(&input),
        "--output",
        text(&output),
        "--dt",
        "1e-3",
        "--steps",
        "100",
        "--softening",
        "0.01",
        "--report",
        text(&report),
    ]);
    assert_success(&run);

    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&report).expect("report written")).expect("report is JSON");
    for field in [
        "n",
        "steps",
        "dt",
        "softening",
        "gravitational_constant",
        "threads",
        "kernel",
        "wall_seconds",
        "interactions_per_second",
        "energy_initial",
        "energy_final",
        "relative_energy_error",
        "momentum_drift",
        "angular_momentum_drift",
    ] {
        assert!(report.get(field).is_some_and(|value| !value.is_null()), "report lacks {field}: {report}");
    }
    assert_eq!(report["n"], 256);
    assert_eq!(report["steps"], 100);
    assert_eq!(report["softening"], 0.01);
    assert_eq!(report["gravitational_constant"], 1.0);
    let energy_error = report["relative_energy_error"].as_f64().expect("a number");
    assert!(energy_error.abs() < 1e-5, "relative energy error {energy_error}");
    assert!(report["interactions_per_second"].as_f64().expect("a number") > 0.0);

    let summary = String::from_utf8_lossy(&run.stdout);
    for expected in ["n = 256", "steps = 100", "kernel", "thread", "wall time", "interactions/s", "energy error"] {
        assert!(summary.contains(expected), "summary lacks {expected:?}: {summary}");
    }
    let final_state = fs::read_to_string(&output).expect("final state written");
    assert!(final_state.starts_with(HEADER));
    assert_eq!(final_state.lines().count(), 257);
}

#[test]
fn one_and_two_threads_write_byte_identical_output() {
    let scratch = Scratch::new("threads");
    // 1000 bodies span several of the engine's parallel chunks.
    let input = generate(&scratch, "uniform", "1000", "5", "ic.csv");
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let output = scratch.path(&format!("out-{threads}.csv"));
        assert_success(&galaxy_sim(&[
            "run",
            "--input",
            text(&input),
            "--output",
            text(&output),
            "--dt",
            "1e-3",
            "--steps",
            "10",
            "--softening",
            "0.05",
            "--threads",
            threads,
        ]));
        outputs.push(fs::read(&output).expect("output written"));
    }
    assert!(outputs[0] == outputs[1], "one and two threads disagree");
}

#[test]
fn same_seed_generates_identical_files_and_other_seeds_differ() {
    let scratch = Scratch::new("seeds");
    for scene in ["kepler", "plummer", "uniform"] {
        let first = fs::read(generate(&scratch, scene, "50", "7", "a.csv")).expect("read a");
        let again = fs::read(generate(&scratch, scene, "50", "7", "b.csv")).expect("read b");
        let other = fs::read(generate(&scratch, scene, "50", "8", "c.csv")).expect("read c");
        assert!(first == again, "{scene}: same seed, different files");
        assert!(first != other, "{scene}: different seeds, same file");
    }
}

#[test]
fn every_kernel_this_cpu_supports_runs() {
    let scratch = Scratch::new("kernels");
    let input = generate(&scratch, "kepler", "20", "3", "ic.csv");
    for kernel in KernelPath::ALL.into_iter().filter(|path| path.is_supported()).map(KernelPath::name).chain(["auto"]) {
        let output = scratch.path("out.csv");
        let run = galaxy_sim(&[
            "run",
            "--input",
            text(&input),
            "--output",
            text(&output),
            "--dt",
            "1e-3",
            "--steps",
            "5",
            "--kernel",
            kernel,
        ]);
        assert_success(&run);
        if kernel != "auto" {
            assert!(String::from_utf8_lossy(&run.stdout).contains(kernel), "kernel {kernel} not reported");
        }
    }
}

#[test]
fn bad_values_name_the_line_and_the_column() {
    let scratch = Scratch::new("bad-values");
    let cases = [
        ("a,1,0,0,0,0,0,0\nb,1,0,0,0,0,0,0\nc,1,abc,0,0,0,0,0\n", r#"line 4, column 3 (x): "abc" is not a number"#),
        ("a,-1,0,0,0,0,0,0\n", "line 2, column 2 (mass): mass must not be negative"),
        ("a,1,0,0,0,0,0,0\nb,1,0,NaN,0,0,0,0\n", "line 3, column 4 (y): value must be finite, got NaN"),
        ("a,1,0,0,0,0,0,inf\n", "line 2, column 8 (vz): value must be finite, got inf"),
        (
            "a,1,0,0,0,0,0,0\nb,1,0,0,0,0,0,0\na,1,0,0,0,0,0,0\n",
            r#"line 4, column 1 (id): duplicate id "a" (first on line 2)"#,
        ),
        (",1,0,0,0,0,0,0\n", "line 2, column 1 (id): id must not be empty"),
    ];
    for (body_lines, expected) in cases {
        let input = scratch.write("bad.csv", &format!("{HEADER}{body_lines}"));
        let message = run_failure_message(&scratch, &input);
        assert!(message.contains(expected), "expected {expected:?} in {message:?}");
        assert!(message.contains("bad.csv"), "the message does not name the file: {message:?}");
    }
}

#[test]
fn bad_file_shapes_name_the_line() {
    let scratch = Scratch::new("bad-shapes");
    let cases = [
        (format!("{HEADER}a,1,0,0,0,0,0,0\nb,1,0,0,0,0,0,0\nc,1,0,0,0,0,0\n"), "line 4: expected 8 fields, found 7"),
        (format!("{HEADER}a,1,0,0,0,0,0,0,9\n"), "line 2: expected 8 fields, found 9"),
        (String::new(), "line 1: missing header"),
        ("id,mass,x,y,z,vx,vy\n".to_owned(), "line 1: wrong header"),
        ("a,1,0,0,0,0,0,0\n".to_owned(), "line 1: wrong header"),
    ];
    for (contents, expected) in cases {
        let input = scratch.write("bad.csv", &contents);
        let message = run_failure_message(&scratch, &input);
        assert!(message.contains(expected), "expected {expected:?} in {message:?}");
    }
}

#[test]
fn header_only_file_fails_with_no_bodies() {
    let scratch = Scratch::new("no-bodies");
    let input = scratch.write("empty.csv", HEADER);
    let message = run_failure_message(&scratch, &input);
    assert!(message.contains("no bodies"), "{message:?}");
}

#[test]
fn missing_input_file_is_named() {
    let scratch = Scratch::new("missing");
    let message = run_failure_message(&scratch, &scratch.path("does-not-exist.csv"));
    assert!(message.contains("does-not-exist.csv"), "{message:?}");
}

#[test]
fn bad_run_flags_fail_and_name_the_flag() {
    let scratch = Scratch::new("bad-flags");
    let input = generate(&scratch, "kepler", "5", "1", "ic.csv");
    let output = scratch.path("out.csv");
    let base = ["run", "--input", text(&input), "--output", text(&output)];
    let cases: [(&[&str], &str); 9] = [
        (&["--dt", "0", "--steps", "1"], "'--dt <DT>': must be greater than zero, got 0"),
        (&["--dt", "-1", "--steps", "1"], "'--dt <DT>': must be greater than zero, got -1"),
        (&["--dt", "NaN", "--steps", "1"], "'--dt <DT>': must be finite"),
        (&["--dt", "1e-3", "--steps", "0"], "'--steps <STEPS>': must be at least 1"),
        (&["--dt", "1e-3", "--steps", "1", "--threads", "0"], "'--threads <THREADS>': must be at least 1"),
        (&["--dt", "1e-3", "--steps", "1", "--softening", "-0.1"], "'--softening <SOFTENING>': must not be negative"),
        (&["--dt", "1e-3", "--steps", "1", "--g", "inf"], "'--g <G>': must be finite"),
        (&["--dt", "1e-3", "--steps", "1", "--kernel", "sse9"], "unknown kernel"),
        (&["--steps", "1"], "--dt"),
    ];
    for (flags, expected) in cases {
        let arguments: Vec<&str> = base.iter().chain(flags).copied().collect();
        let message = failure_message(&arguments);
        assert!(message.contains(expected), "{flags:?}: expected {expected:?} in {message:?}");
    }
    assert!(!output.exists(), "a refused run wrote output");
}

#[test]
fn unsupported_kernel_is_a_clear_error() {
    let Some(unsupported) = KernelPath::ALL.into_iter().find(|path| !path.is_supported()) else {
        // Every kernel runs on this CPU; `every_kernel_this_cpu_supports_runs` covers them.
        return;
    };
    let scratch = Scratch::new("unsupported-kernel");
    let input = generate(&scratch, "kepler", "5", "1", "ic.csv");
    let output = scratch.path("out.csv");
    let message = failure_message(&[
        "run",
        "--input",
        text(&input),
        "--output",
        text(&output),
        "--dt",
        "1e-3",
        "--steps",
        "1",
        "--kernel",
        unsupported.name(),
    ]);
    assert!(message.contains("does not support"), "{message:?}");
}

#[test]
fn bad_generate_arguments_fail_clearly() {
    let scratch = Scratch::new("bad-generate");
    let output = scratch.path("ic.csv");
    let message = failure_message(&["generate", "spiral", "--n", "10", "--output", text(&output)]);
    assert!(message.contains("spiral") && message.contains("plummer"), "{message:?}");
    let message = failure_message(&["generate", "plummer", "--n", "0", "--output", text(&output)]);
    assert!(message.contains("--n"), "{message:?}");
    let message = failure_message(&["generate", "plummer", "--n", "ten", "--output", text(&output)]);
    assert!(message.contains("--n"), "{message:?}");
    let unwritable = scratch.path("no-such-directory/ic.csv");
    let message = failure_message(&["generate", "plummer", "--n", "10", "--output", text(&unwritable)]);
    assert!(message.contains("no-such-directory"), "{message:?}");
    assert!(!output.exists());
}

#[test]
fn validate_solar_system_prints_every_body_and_writes_the_plot() {
    let scratch = Scratch::new("validate");
    let plot = scratch.path("errors.svg");
    let output =
        galaxy_sim(&["validate", "solar-system", "--years", "1", "--dt", "3600", "--gr", "--plot", text(&plot)]);
    assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    for expected in ["1 yr", "Sun", "Mercury", "Neptune", "Moon (geocentric)", "energy drift", "1PN"] {
        assert!(stdout.contains(expected), "no {expected:?} in:\n{stdout}");
    }
    let svg = fs::read_to_string(&plot).expect("plot written");
    assert!(svg.starts_with("<svg") && svg.contains("Moon (geocentric)"));
}

#[test]
fn bad_validate_arguments_fail_and_say_why() {
    let scratch = Scratch::new("validate-bad");
    assert!(failure_message(&["validate", "solar-system", "--years", "2000", "--dt", "600"]).contains("years"));
    assert!(failure_message(&["validate", "solar-system", "--years", "1", "--dt", "-5"]).contains("--dt"));
    assert!(failure_message(&["validate", "solar-system", "--years", "1", "--dt", "1e7"]).contains("step"));
    assert!(failure_message(&["validate", "mars", "--years", "1", "--dt", "600"]).contains("mars"));
    let plot = scratch.path("errors.gif");
    let message =
        failure_message(&["validate", "solar-system", "--years", "0.1", "--dt", "3600", "--plot", text(&plot)]);
    assert!(message.contains(".svg or .png"), "{message}");
}

#[test]
fn barnes_hut_runs_a_disk_galaxy_deterministically_and_reports_it() {
    let scratch = Scratch::new("barnes-hut");
    let input = generate(&scratch, "disk", "3000", "4", "ic.csv");
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let output = scratch.path(&format!("out-{threads}.csv"));
        let report = scratch.path(&format!("report-{threads}.json"));
        assert_success(&galaxy_sim(&[
            "run",
            "--input",
            text(&input),
            "--output",
            text(&output),
            "--dt",
            "1e-3",
            "--steps",
            "20",
            "--softening",
            "0.02",
            "--threads",
            threads,
            "--gravity",
            "barnes-hut",
            "--theta",
            "0.5",
            "--report",
            text(&report),
        ]));
        let report: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&report).expect("report written")).expect("report is JSON");
        assert_eq!(report["gravity"], "barnes-hut (theta = 0.5)");
        let error = report["relative_energy_error"].as_f64().expect("energy error").abs();
        assert!(error < 1e-4, "relative energy error {error}");
        outputs.push(fs::read(&output).expect("output written"));
    }
    assert!(outputs[0] == outputs[1], "one and two threads disagree");
}

#[test]
fn a_bad_opening_angle_is_refused() {
    for theta in ["0", "-0.5", "2", "abc"] {
        let message = failure_message(&[
            "run",
            "--input",
            "x.csv",
            "--output",
            "y.csv",
            "--dt",
            "1e-3",
            "--steps",
            "1",
            "--gravity",
            "barnes-hut",
            "--theta",
            theta,
        ]);
        assert!(message.contains("--theta"), "{theta}: {message}");
    }
}
