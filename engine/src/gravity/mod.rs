//! Direct-summation gravity: the scalar reference kernel, the portable `wide` kernel and the
//! x86 fast paths (AVX2+FMA, AVX-512) chosen at run time.
//!
//! Every kernel computes the accelerations of a block of [`BLOCK`] targets from all sources,
//! summing the sources in index order for each target. Targets are cut into chunks of
//! [`CHUNK`] (whole blocks), so how chunks are spread over threads never changes a sum: one
//! thread and many threads give bitwise-identical results. A final partial block is padded with
//! copies of a real target (never NaN) and its extra lanes are discarded.

mod portable;
mod scalar;
#[cfg(target_arch = "x86_64")]
mod symmetric;
mod tree;
#[cfg(target_arch = "x86_64")]
mod x86;

pub(crate) use tree::Octree;

use std::fmt;
use std::sync::OnceLock;

/// Targets handled by one kernel call: two AVX-512 vectors, four AVX2 or `wide` vectors.
pub const BLOCK: usize = 16;
/// Targets per parallel work item. PERF: large enough that rayon's per-task cost (a few µs)
/// is small against the work, small enough that 16k targets still spread over many cores.
pub const CHUNK: usize = 256;

/// Which gravity kernel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KernelPath {
    /// Plain Rust, one interaction at a time, exact `sqrt` and divide: the reference.
    Scalar,
    /// `wide::f64x4` lanes, exact `sqrt` and divide; the instruction set is fixed when the crate
    /// is compiled (SSE2 in a default x86-64 build), so it runs on every CPU.
    Portable,
    /// AVX2 + FMA intrinsics, four f64 lanes, exact `sqrt` and divide.
    Avx2Fma,
    /// AVX-512F intrinsics, eight f64 lanes, `rsqrt14` refined by two Newton–Raphson steps to
    /// full f64 accuracy (no divider on the hot path).
    Avx512,
}

impl KernelPath {
    /// Every path, slowest first.
    pub const ALL: [KernelPath; 4] = [Self::Scalar, Self::Portable, Self::Avx2Fma, Self::Avx512];

    /// A short stable name (`scalar`, `portable`, `avx2-fma`, `avx512`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Scalar => "scalar",
            Self::Portable => "portable",
            Self::Avx2Fma => "avx2-fma",
            Self::Avx512 => "avx512",
        }
    }

    /// Parses a name written by [`KernelPath::name`].
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|path| path.name() == name)
    }

    /// Whether this CPU can run the path (detected once, at run time).
    #[must_use]
    pub fn is_supported(self) -> bool {
        match self {
            Self::Scalar | Self::Portable => true,
            Self::Avx2Fma => cpu_features().avx2_fma,
            Self::Avx512 => cpu_features().avx512,
        }
    }

    /// The fastest path this CPU supports.
    #[must_use]
    pub fn best_available() -> Self {
        if Self::Avx512.is_supported() {
            Self::Avx512
        } else if Self::Avx2Fma.is_supported() {
            Self::Avx2Fma
        } else {
            Self::Portable
        }
    }
}

impl fmt::Display for KernelPath {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

#[derive(Debug, Clone, Copy)]
struct CpuFeatures {
    avx2_fma: bool,
    avx512: bool,
}

fn cpu_features() -> CpuFeatures {
    static FEATURES: OnceLock<CpuFeatures> = OnceLock::new();
    *FEATURES.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            let avx2_fma = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
            CpuFeatures { avx2_fma, avx512: avx2_fma && std::is_x86_feature_detected!("avx512f") }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            CpuFeatures { avx2_fma: false, avx512: false }
        }
    })
}

/// The attracting masses, as borrowed columns of equal length.
#[derive(Debug, Clone, Copy)]
pub struct SourceColumns<'a> {
    /// Positions.
    pub x: &'a [f64],
    /// Positions.
    pub y: &'a [f64],
    /// Positions.
    pub z: &'a [f64],
    /// G·m of each source.
    pub gm: &'a [f64],
    /// `radius² + softening²` of each source: a target with `r² + ε² − threshold < 0` is inside
    /// the source's radius. Only read when proximity is requested.
    pub collision_threshold: &'a [f64],
}

impl SourceColumns<'_> {
    fn len(&self) -> usize {
        self.gm.len()
    }
}

/// The points where accelerations are wanted.
#[derive(Debug, Clone, Copy)]
pub struct TargetColumns<'a> {
    /// Positions.
    pub x: &'a [f64],
    /// Positions.
    pub y: &'a [f64],
    /// Positions.
    pub z: &'a [f64],
}

/// Where the accelerations (and optionally proximity) are written; every element is overwritten.
#[derive(Debug)]
pub struct AccelerationColumns<'a> {
    /// Acceleration components.
    pub x: &'a mut [f64],
    /// Acceleration components.
    pub y: &'a mut [f64],
    /// Acceleration components.
    pub z: &'a mut [f64],
    /// For each target, `min over sources (r² + ε² − collision_threshold)`: negative means the
    /// target is inside some source's radius. `None` skips that work.
    pub proximity: Option<&'a mut [f64]>,
}

/// One block of targets: borrowed straight from the columns, or a padded copy for the last,
/// partial block.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TargetBlock<'a> {
    pub x: &'a [f64; BLOCK],
    pub y: &'a [f64; BLOCK],
    pub z: &'a [f64; BLOCK],
}

/// Where a kernel writes one block's results (every lane is overwritten).
#[derive(Debug)]
pub(crate) struct BlockOutput<'a> {
    pub x: &'a mut [f64; BLOCK],
    pub y: &'a mut [f64; BLOCK],
    pub z: &'a mut [f64; BLOCK],
    /// Only written when the kernel computes proximity.
    pub proximity: &'a mut [f64; BLOCK],
}

/// Accelerations of every target from every source, `a_i = Σ_j G m_j (r_j − r_i) / (|r_j − r_i|² + ε²)^{3/2}`.
///
/// A source at exactly the target's position (distance and softening both zero) contributes
/// nothing, so a body never attracts itself. Runs on the current rayon pool when the `parallel`
/// feature is on; results do not depend on the number of threads.
///
/// # Panics
/// If the column lengths disagree, or `path` is not supported by this CPU (check
/// [`KernelPath::is_supported`]); both are programming errors, never caused by data.
pub fn compute_accelerations(
    path: KernelPath,
    sources: &SourceColumns<'_>,
    targets: &TargetColumns<'_>,
    softening_squared: f64,
    output: AccelerationColumns<'_>,
) {
    let target_count = targets.x.len();
    assert!(targets.y.len() == target_count && targets.z.len() == target_count, "target columns differ in length");
    assert!(
        output.x.len() == target_count && output.y.len() == target_count && output.z.len() == target_count,
        "output columns differ from the targets in length"
    );
    let source_count = sources.len();
    assert!(
        sources.x.len() == source_count && sources.y.len() == source_count && sources.z.len() == source_count,
        "source columns differ in length"
    );
    let wants_proximity = output.proximity.is_some();
    if let Some(proximity) = output.proximity.as_deref() {
        assert!(proximity.len() == target_count, "proximity column differs from the targets in length");
        assert!(
            sources.collision_threshold.len() == source_count,
            "collision thresholds differ from the sources in length"
        );
    }
    assert!(path.is_supported(), "kernel path {path} is not supported by this CPU");

    let chunks = split_into_chunks(output);
    let run_chunk = |(chunk_index, chunk): (usize, ChunkOutput<'_>)| {
        let start = chunk_index * CHUNK;
        let end = start + chunk.x.len();
        let chunk_targets =
            TargetColumns { x: &targets.x[start..end], y: &targets.y[start..end], z: &targets.z[start..end] };
        if wants_proximity {
            chunk_accelerations::<true>(path, sources, &chunk_targets, softening_squared, chunk);
        } else {
            chunk_accelerations::<false>(path, sources, &chunk_targets, softening_squared, chunk);
        }
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        if chunks.len() > 1 && target_count.saturating_mul(source_count) >= PARALLEL_MIN_INTERACTIONS {
            chunks.into_par_iter().enumerate().for_each(run_chunk);
            return;
        }
    }
    chunks.into_iter().enumerate().for_each(run_chunk);
}

/// Fewest target × source interactions worth spreading over threads. PERF: below it (about
/// 0.1 ms of work, e.g. a game's 1,000 ships under 29 bodies) waking rayon's workers costs
/// more than it saves, and their spinning takes the core from the services around the engine.
/// The split into chunks is the same either way, so results do not change.
pub const PARALLEL_MIN_INTERACTIONS: usize = 1 << 18;

/// Bodies from which [`compute_self_accelerations`] on the AVX-512 path computes each pair
/// once: below one super-tile there is nothing to run in parallel and the one-sided kernel
/// is as fast.
pub const SYMMETRIC_MIN_BODIES: usize = 256;

/// Accelerations of the sources on themselves (`targets = sources`), as
/// [`compute_accelerations`] would give them, but on the AVX-512 path with
/// [`SYMMETRIC_MIN_BODIES`] or more bodies each pair is computed once and applied to both
/// bodies (Newton's third law): half the arithmetic. Sums are still added in a fixed order, so
/// the result does not depend on the thread count. Proximity is not computed.
///
/// # Panics
/// As [`compute_accelerations`]; also if `output.proximity` is `Some`.
pub fn compute_self_accelerations(
    path: KernelPath,
    sources: &SourceColumns<'_>,
    softening_squared: f64,
    output: AccelerationColumns<'_>,
) {
    assert!(output.proximity.is_none(), "self-gravity does not compute proximity");
    #[cfg(target_arch = "x86_64")]
    if path == KernelPath::Avx512 && sources.len() >= SYMMETRIC_MIN_BODIES {
        let count = sources.len();
        assert!(
            sources.x.len() == count && sources.y.len() == count && sources.z.len() == count,
            "source columns differ in length"
        );
        assert!(
            output.x.len() == count && output.y.len() == count && output.z.len() == count,
            "output columns differ from the sources in length"
        );
        assert!(path.is_supported(), "kernel path {path} is not supported by this CPU");
        // SAFETY: the CPU supports AVX-512F (asserted above).
        unsafe { symmetric::self_accelerations_avx512(sources, softening_squared, output.x, output.y, output.z) };
        return;
    }
    let targets = TargetColumns { x: sources.x, y: sources.y, z: sources.z };
    compute_accelerations(path, sources, &targets, softening_squared, output);
}

/// Accelerations of the sources on themselves through a Barnes–Hut octree with opening angle
/// `opening_angle` (see [`crate::GravityMethod::BarnesHut`]): what a simulation with that
/// gravity method computes for its bodies. Proximity is not computed.
///
/// # Panics
/// As [`compute_self_accelerations`].
pub fn compute_barnes_hut_accelerations(
    path: KernelPath,
    sources: &SourceColumns<'_>,
    opening_angle: f64,
    softening_squared: f64,
    output: AccelerationColumns<'_>,
) {
    assert!(output.proximity.is_none(), "the tree does not compute proximity");
    assert!(path.is_supported(), "kernel path {path} is not supported by this CPU");
    let count = sources.len();
    assert!(
        output.x.len() == count && output.y.len() == count && output.z.len() == count,
        "output columns differ from the sources in length"
    );
    Octree::build(sources, opening_angle, softening_squared).self_accelerations(path, output);
}

struct ChunkOutput<'a> {
    x: &'a mut [f64],
    y: &'a mut [f64],
    z: &'a mut [f64],
    proximity: Option<&'a mut [f64]>,
}

fn split_into_chunks(output: AccelerationColumns<'_>) -> Vec<ChunkOutput<'_>> {
    let AccelerationColumns { x, y, z, proximity } = output;
    let mut chunks = Vec::with_capacity(x.len().div_ceil(CHUNK));
    let mut proximity_chunks = proximity.map(|column| column.chunks_mut(CHUNK));
    for ((x, y), z) in x.chunks_mut(CHUNK).zip(y.chunks_mut(CHUNK)).zip(z.chunks_mut(CHUNK)) {
        let proximity = proximity_chunks.as_mut().and_then(Iterator::next);
        chunks.push(ChunkOutput { x, y, z, proximity });
    }
    chunks
}

fn chunk_accelerations<const PROXIMITY: bool>(
    path: KernelPath,
    sources: &SourceColumns<'_>,
    targets: &TargetColumns<'_>,
    softening_squared: f64,
    output: ChunkOutput<'_>,
) {
    // PERF: full blocks are read from and written to the columns in place; with few sources
    // (29 bodies for 10,000 ships) copying blocks would cost as much as the arithmetic.
    let (x_blocks, x_tail) = targets.x.as_chunks::<BLOCK>();
    let (y_blocks, y_tail) = targets.y.as_chunks::<BLOCK>();
    let (z_blocks, z_tail) = targets.z.as_chunks::<BLOCK>();
    let (output_x, output_x_tail) = output.x.as_chunks_mut::<BLOCK>();
    let (output_y, output_y_tail) = output.y.as_chunks_mut::<BLOCK>();
    let (output_z, output_z_tail) = output.z.as_chunks_mut::<BLOCK>();
    let mut scratch_proximity = [0.0; BLOCK];
    let (mut proximity_blocks, proximity_tail) = match output.proximity {
        Some(column) => {
            let (blocks, tail) = column.as_chunks_mut::<BLOCK>();
            (Some(blocks), Some(tail))
        }
        None => (None, None),
    };
    for block in 0..x_blocks.len() {
        let proximity = match proximity_blocks.as_deref_mut() {
            Some(blocks) => &mut blocks[block],
            None => &mut scratch_proximity,
        };
        run_block::<PROXIMITY>(
            path,
            sources,
            &TargetBlock { x: &x_blocks[block], y: &y_blocks[block], z: &z_blocks[block] },
            softening_squared,
            &mut BlockOutput { x: &mut output_x[block], y: &mut output_y[block], z: &mut output_z[block], proximity },
        );
    }
    let lanes = x_tail.len();
    if lanes == 0 {
        return;
    }
    // NOTE: the partial block repeats its last real target, so padded lanes compute finite
    // values that are simply not written back.
    let pad = |tail: &[f64]| {
        let mut padded = [tail[lanes - 1]; BLOCK];
        padded[..lanes].copy_from_slice(tail);
        padded
    };
    let (x, y, z) = (pad(x_tail), pad(y_tail), pad(z_tail));
    let (mut result_x, mut result_y, mut result_z) = ([0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK]);
    run_block::<PROXIMITY>(
        path,
        sources,
        &TargetBlock { x: &x, y: &y, z: &z },
        softening_squared,
        &mut BlockOutput { x: &mut result_x, y: &mut result_y, z: &mut result_z, proximity: &mut scratch_proximity },
    );
    output_x_tail.copy_from_slice(&result_x[..lanes]);
    output_y_tail.copy_from_slice(&result_y[..lanes]);
    output_z_tail.copy_from_slice(&result_z[..lanes]);
    if let Some(tail) = proximity_tail {
        tail.copy_from_slice(&scratch_proximity[..lanes]);
    }
}

#[inline]
fn run_block<const PROXIMITY: bool>(
    path: KernelPath,
    sources: &SourceColumns<'_>,
    block: &TargetBlock<'_>,
    softening_squared: f64,
    result: &mut BlockOutput<'_>,
) {
    match path {
        KernelPath::Scalar => scalar::block::<PROXIMITY>(sources, block, softening_squared, result),
        KernelPath::Portable => portable::block::<PROXIMITY>(sources, block, softening_squared, result),
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2Fma => {
            // SAFETY: `compute_accelerations` asserted that the CPU supports AVX2 and FMA.
            unsafe { x86::block_avx2_fma::<PROXIMITY>(sources, block, softening_squared, result) }
        }
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx512 => {
            // SAFETY: `compute_accelerations` asserted that the CPU supports AVX-512F.
            unsafe {
                if softening_squared > 0.0 {
                    x86::block_avx512::<PROXIMITY, false>(sources, block, softening_squared, result);
                } else {
                    x86::block_avx512::<PROXIMITY, true>(sources, block, softening_squared, result);
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        KernelPath::Avx2Fma | KernelPath::Avx512 => unreachable!("x86 paths are never supported off x86_64"),
    }
}
