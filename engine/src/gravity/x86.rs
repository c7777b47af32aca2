//! x86-64 fast paths as `core::arch` intrinsics in `#[target_feature]` functions, so they are
//! emitted whatever the crate's compile-time target, and chosen at run time by CPU detection.

use core::arch::x86_64::*;

use super::tree::COMPACT_TARGETS;
use super::{BLOCK, BlockOutput, SourceColumns, TargetBlock};

const AVX2_LANES: usize = 4;
const AVX2_VECTORS: usize = BLOCK / AVX2_LANES;

/// AVX2 + FMA: four lanes, exact `sqrt` and divide (AVX2 has no f64 reciprocal square root).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn block_avx2_fma<const PROXIMITY: bool>(
    sources: &SourceColumns<'_>,
    block: &TargetBlock<'_>,
    softening_squared: f64,
    result: &mut BlockOutput<'_>,
) {
    // SAFETY: every load reads AVX2_LANES elements starting at vector * AVX2_LANES < BLOCK.
    let load =
        |column: &[f64; BLOCK], vector: usize| unsafe { _mm256_loadu_pd(column.as_ptr().add(vector * AVX2_LANES)) };
    let target_x: [__m256d; AVX2_VECTORS] = std::array::from_fn(|vector| load(block.x, vector));
    let target_y: [__m256d; AVX2_VECTORS] = std::array::from_fn(|vector| load(block.y, vector));
    let target_z: [__m256d; AVX2_VECTORS] = std::array::from_fn(|vector| load(block.z, vector));
    let mut acceleration_x = [_mm256_setzero_pd(); AVX2_VECTORS];
    let mut acceleration_y = [_mm256_setzero_pd(); AVX2_VECTORS];
    let mut acceleration_z = [_mm256_setzero_pd(); AVX2_VECTORS];
    let mut proximity = [_mm256_set1_pd(f64::INFINITY); AVX2_VECTORS];
    let softening_squared = _mm256_set1_pd(softening_squared);
    let zero = _mm256_setzero_pd();
    for source in 0..sources.gm.len() {
        let source_x = _mm256_set1_pd(sources.x[source]);
        let source_y = _mm256_set1_pd(sources.y[source]);
        let source_z = _mm256_set1_pd(sources.z[source]);
        let source_gm = _mm256_set1_pd(sources.gm[source]);
        for vector in 0..AVX2_VECTORS {
            let dx = _mm256_sub_pd(source_x, target_x[vector]);
            let dy = _mm256_sub_pd(source_y, target_y[vector]);
            let dz = _mm256_sub_pd(source_z, target_z[vector]);
            let distance_squared =
                _mm256_fmadd_pd(dx, dx, _mm256_fmadd_pd(dy, dy, _mm256_fmadd_pd(dz, dz, softening_squared)));
            let cube = _mm256_mul_pd(distance_squared, _mm256_sqrt_pd(distance_squared));
            let weight = _mm256_div_pd(source_gm, cube);
            // A source on top of the target (only possible without softening) adds nothing.
            let weight = _mm256_and_pd(weight, _mm256_cmp_pd::<_CMP_GT_OQ>(distance_squared, zero));
            acceleration_x[vector] = _mm256_fmadd_pd(weight, dx, acceleration_x[vector]);
            acceleration_y[vector] = _mm256_fmadd_pd(weight, dy, acceleration_y[vector]);
            acceleration_z[vector] = _mm256_fmadd_pd(weight, dz, acceleration_z[vector]);
            if PROXIMITY {
                let threshold = _mm256_set1_pd(sources.collision_threshold[source]);
                proximity[vector] = _mm256_min_pd(proximity[vector], _mm256_sub_pd(distance_squared, threshold));
            }
        }
    }
    for vector in 0..AVX2_VECTORS {
        let offset = vector * AVX2_LANES;
        // SAFETY: each store writes AVX2_LANES elements starting at offset < BLOCK.
        unsafe {
            _mm256_storeu_pd(result.x.as_mut_ptr().add(offset), acceleration_x[vector]);
            _mm256_storeu_pd(result.y.as_mut_ptr().add(offset), acceleration_y[vector]);
            _mm256_storeu_pd(result.z.as_mut_ptr().add(offset), acceleration_z[vector]);
            _mm256_storeu_pd(result.proximity.as_mut_ptr().add(offset), proximity[vector]);
        }
    }
}

const AVX512_LANES: usize = 8;
const AVX512_VECTORS: usize = BLOCK / AVX512_LANES;

/// AVX-512F: eight lanes, no divide or square root on the hot path. `1/r` starts from
/// `rsqrt14` (relative error < 2⁻¹⁴) and `r⁻³` is corrected in one go by a cubic in the
/// estimate's error: the truncation term (315/128 e⁴, |e| < 2⁻¹³) is ~5e-16 at worst, below
/// the rounding of the sums. PERF: two Newton–Raphson steps then cubing cost two more
/// operations per eight interactions for the same accuracy.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn block_avx512<const PROXIMITY: bool, const MAY_COINCIDE: bool>(
    sources: &SourceColumns<'_>,
    block: &TargetBlock<'_>,
    softening_squared: f64,
    result: &mut BlockOutput<'_>,
) {
    // SAFETY: every load reads AVX512_LANES elements starting at vector * AVX512_LANES < BLOCK.
    let load =
        |column: &[f64; BLOCK], vector: usize| unsafe { _mm512_loadu_pd(column.as_ptr().add(vector * AVX512_LANES)) };
    let target_x: [__m512d; AVX512_VECTORS] = std::array::from_fn(|vector| load(block.x, vector));
    let target_y: [__m512d; AVX512_VECTORS] = std::array::from_fn(|vector| load(block.y, vector));
    let target_z: [__m512d; AVX512_VECTORS] = std::array::from_fn(|vector| load(block.z, vector));
    let mut acceleration_x = [_mm512_setzero_pd(); AVX512_VECTORS];
    let mut acceleration_y = [_mm512_setzero_pd(); AVX512_VECTORS];
    let mut acceleration_z = [_mm512_setzero_pd(); AVX512_VECTORS];
    let mut proximity = [_mm512_set1_pd(f64::INFINITY); AVX512_VECTORS];
    let softening_squared = _mm512_set1_pd(softening_squared);
    let zero = _mm512_setzero_pd();
    let one = _mm512_set1_pd(1.0);
    for source in 0..sources.gm.len() {
        let source_x = _mm512_set1_pd(sources.x[source]);
        let source_y = _mm512_set1_pd(sources.y[source]);
        let source_z = _mm512_set1_pd(sources.z[source]);
        let gm = sources.gm[source];
        let source_gm = _mm512_set1_pd(gm);
        let gm_linear = _mm512_set1_pd(gm * 1.5);
        let gm_quadratic = _mm512_set1_pd(gm * (15.0 / 8.0));
        let gm_cubic = _mm512_set1_pd(gm * (35.0 / 16.0));
        for vector in 0..AVX512_VECTORS {
            let dx = _mm512_sub_pd(source_x, target_x[vector]);
            let dy = _mm512_sub_pd(source_y, target_y[vector]);
            let dz = _mm512_sub_pd(source_z, target_z[vector]);
            let distance_squared =
                _mm512_fmadd_pd(dx, dx, _mm512_fmadd_pd(dy, dy, _mm512_fmadd_pd(dz, dz, softening_squared)));
            // y₀ ≈ r⁻¹ to 14 bits; e = 1 − r² y₀² is its (doubled) relative error, and
            // r⁻³ = y₀³ (1 − e)^{-3/2} = y₀³ (1 + 3/2 e + 15/8 e² + 35/16 e³ + O(e⁴)).
            let estimate = _mm512_rsqrt14_pd(distance_squared);
            let estimate_squared = _mm512_mul_pd(estimate, estimate);
            let error = _mm512_fnmadd_pd(distance_squared, estimate_squared, one);
            // PERF: G·m rides in the series' coefficients (scaled once per source), which saves
            // one multiply per eight interactions.
            let gm_series = _mm512_fmadd_pd(error, gm_cubic, gm_quadratic);
            let gm_series = _mm512_fmadd_pd(gm_series, error, gm_linear);
            let gm_series = _mm512_fmadd_pd(gm_series, error, source_gm);
            let estimate_cubed = _mm512_mul_pd(estimate, estimate_squared);
            // A source on top of the target (only possible without softening) adds nothing:
            // the masked multiply leaves zero in those lanes instead of inf·0 = NaN.
            // PERF: with softening r² ≥ ε² > 0, so the comparison is only paid without it.
            let weight = if MAY_COINCIDE {
                let separated = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(distance_squared, zero);
                _mm512_maskz_mul_pd(separated, estimate_cubed, gm_series)
            } else {
                _mm512_mul_pd(estimate_cubed, gm_series)
            };
            acceleration_x[vector] = _mm512_fmadd_pd(weight, dx, acceleration_x[vector]);
            acceleration_y[vector] = _mm512_fmadd_pd(weight, dy, acceleration_y[vector]);
            acceleration_z[vector] = _mm512_fmadd_pd(weight, dz, acceleration_z[vector]);
            if PROXIMITY {
                let threshold = _mm512_set1_pd(sources.collision_threshold[source]);
                proximity[vector] = _mm512_min_pd(proximity[vector], _mm512_sub_pd(distance_squared, threshold));
            }
        }
    }
    for vector in 0..AVX512_VECTORS {
        let offset = vector * AVX512_LANES;
        // SAFETY: each store writes AVX512_LANES elements starting at offset < BLOCK.
        unsafe {
            _mm512_storeu_pd(result.x.as_mut_ptr().add(offset), acceleration_x[vector]);
            _mm512_storeu_pd(result.y.as_mut_ptr().add(offset), acceleration_y[vector]);
            _mm512_storeu_pd(result.z.as_mut_ptr().add(offset), acceleration_z[vector]);
            _mm512_storeu_pd(result.proximity.as_mut_ptr().add(offset), proximity[vector]);
        }
    }
}

/// Monopole + quadrupole pull of the listed nodes on up to [`BLOCK`] targets, added into `output`
/// (see `tree::node_acceleration` for the formula). `1/r` comes from `rsqrt14` and a quadratic
/// correction (relative error ~1e-12, far below the multipole expansion's own error).
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn add_node_accelerations_avx512(
    table: super::tree::NodeColumns<'_>,
    nodes: &[u32],
    targets: [&[f64]; 3],
    softening_squared: f64,
    output: [&mut [f64]; 3],
) {
    let lanes = targets[0].len().min(BLOCK);
    if lanes == 0 {
        return;
    }
    // Padded lanes repeat the last target; their results are dropped.
    let pad = |column: &[f64]| {
        let mut padded = [column[lanes - 1]; BLOCK];
        padded[..lanes].copy_from_slice(&column[..lanes]);
        padded
    };
    let padded = [pad(targets[0]), pad(targets[1]), pad(targets[2])];
    // SAFETY: each load reads AVX512_LANES elements at vector * AVX512_LANES < BLOCK.
    let load =
        |column: &[f64; BLOCK], vector: usize| unsafe { _mm512_loadu_pd(column.as_ptr().add(vector * AVX512_LANES)) };
    let target_x: [__m512d; AVX512_VECTORS] = std::array::from_fn(|vector| load(&padded[0], vector));
    let target_y: [__m512d; AVX512_VECTORS] = std::array::from_fn(|vector| load(&padded[1], vector));
    let target_z: [__m512d; AVX512_VECTORS] = std::array::from_fn(|vector| load(&padded[2], vector));
    let mut sum_x = [_mm512_setzero_pd(); AVX512_VECTORS];
    let mut sum_y = [_mm512_setzero_pd(); AVX512_VECTORS];
    let mut sum_z = [_mm512_setzero_pd(); AVX512_VECTORS];
    let softening_squared = _mm512_set1_pd(softening_squared);
    let one = _mm512_set1_pd(1.0);
    let half = _mm512_set1_pd(0.5);
    let three_eighths = _mm512_set1_pd(0.375);
    let minus_five_halves = _mm512_set1_pd(-2.5);
    for &node in nodes {
        let node = node as usize;
        let center_x = _mm512_set1_pd(table.x[node]);
        let center_y = _mm512_set1_pd(table.y[node]);
        let center_z = _mm512_set1_pd(table.z[node]);
        let minus_gm = _mm512_set1_pd(-table.gm[node]);
        let [xx, xy, xz, yy, yz, zz] = table.quadrupole.map(|column| _mm512_set1_pd(column[node]));
        for vector in 0..AVX512_VECTORS {
            let dx = _mm512_sub_pd(target_x[vector], center_x);
            let dy = _mm512_sub_pd(target_y[vector], center_y);
            let dz = _mm512_sub_pd(target_z[vector], center_z);
            let r2 = _mm512_fmadd_pd(dx, dx, _mm512_fmadd_pd(dy, dy, _mm512_fmadd_pd(dz, dz, softening_squared)));
            let estimate = _mm512_rsqrt14_pd(r2);
            let error = _mm512_fnmadd_pd(r2, _mm512_mul_pd(estimate, estimate), one);
            let series = _mm512_fmadd_pd(error, three_eighths, half);
            let inverse_r = _mm512_fmadd_pd(_mm512_mul_pd(estimate, error), series, estimate);
            let inverse_r2 = _mm512_mul_pd(inverse_r, inverse_r);
            let inverse_r3 = _mm512_mul_pd(inverse_r, inverse_r2);
            let inverse_r5 = _mm512_mul_pd(inverse_r3, inverse_r2);
            let inverse_r7 = _mm512_mul_pd(inverse_r5, inverse_r2);
            let q_dx = _mm512_fmadd_pd(xx, dx, _mm512_fmadd_pd(xy, dy, _mm512_mul_pd(xz, dz)));
            let q_dy = _mm512_fmadd_pd(xy, dx, _mm512_fmadd_pd(yy, dy, _mm512_mul_pd(yz, dz)));
            let q_dz = _mm512_fmadd_pd(xz, dx, _mm512_fmadd_pd(yz, dy, _mm512_mul_pd(zz, dz)));
            let d_q_d = _mm512_fmadd_pd(dx, q_dx, _mm512_fmadd_pd(dy, q_dy, _mm512_mul_pd(dz, q_dz)));
            // −GM/r³ − 5/2 (dᵀQd)/r⁷, the coefficient of d.
            let radial = _mm512_fmadd_pd(
                minus_gm,
                inverse_r3,
                _mm512_mul_pd(minus_five_halves, _mm512_mul_pd(d_q_d, inverse_r7)),
            );
            sum_x[vector] = _mm512_fmadd_pd(radial, dx, _mm512_fmadd_pd(q_dx, inverse_r5, sum_x[vector]));
            sum_y[vector] = _mm512_fmadd_pd(radial, dy, _mm512_fmadd_pd(q_dy, inverse_r5, sum_y[vector]));
            sum_z[vector] = _mm512_fmadd_pd(radial, dz, _mm512_fmadd_pd(q_dz, inverse_r5, sum_z[vector]));
        }
    }
    let mut results = [[0.0; BLOCK]; 3];
    for vector in 0..AVX512_VECTORS {
        let offset = vector * AVX512_LANES;
        // SAFETY: each store writes AVX512_LANES elements starting at offset < BLOCK.
        unsafe {
            _mm512_storeu_pd(results[0].as_mut_ptr().add(offset), sum_x[vector]);
            _mm512_storeu_pd(results[1].as_mut_ptr().add(offset), sum_y[vector]);
            _mm512_storeu_pd(results[2].as_mut_ptr().add(offset), sum_z[vector]);
        }
    }
    for (column, result) in output.into_iter().zip(&results) {
        for (value, added) in column.iter_mut().zip(&result[..lanes]) {
            *value += added;
        }
    }
}

/// Sources summed in f32 before the partial sums are added to f64 accumulators. PERF/accuracy:
/// a long f32 sum would round at ~√n · 2⁻²⁴ of the summed magnitudes, which near a cluster's
/// centre (where pulls cancel) is visible next to the net force; blocks of 32 keep it ~1e-7.
const COMPACT_BLOCK: usize = 32;

/// One group's interactions in f32 (see `tree::CompactLists`): the targets as 16-lane AVX-512
/// vectors, `1/r` from `rsqrt14` with a first-order correction (relative error ~2e-8, below
/// f32 rounding). Returns the accelerations per target, in f64.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn compact_group_avx512(
    lists: &super::tree::CompactLists,
    targets: &[[f32; COMPACT_TARGETS]; 3],
    softening_squared: f32,
) -> [[f64; COMPACT_TARGETS]; 3] {
    const LANES: usize = 16;
    const VECTORS: usize = COMPACT_TARGETS / LANES;
    // SAFETY: each load reads LANES f32 at vector * LANES < COMPACT_TARGETS.
    let load = |column: &[f32; COMPACT_TARGETS], vector: usize| unsafe {
        _mm512_loadu_ps(column.as_ptr().add(vector * LANES))
    };
    let target_x: [__m512; VECTORS] = std::array::from_fn(|vector| load(&targets[0], vector));
    let target_y: [__m512; VECTORS] = std::array::from_fn(|vector| load(&targets[1], vector));
    let target_z: [__m512; VECTORS] = std::array::from_fn(|vector| load(&targets[2], vector));
    let softening_squared = _mm512_set1_ps(softening_squared);
    let one = _mm512_set1_ps(1.0);
    let half = _mm512_set1_ps(0.5);
    let three_halves = _mm512_set1_ps(1.5);
    let minus_five_halves = _mm512_set1_ps(-2.5);
    // f64 accumulators: [axis][vector][low or high eight lanes].
    let mut total = [[[_mm512_setzero_pd(); 2]; VECTORS]; 3];
    let flush = |sum: &[[__m512; VECTORS]; 3], total: &mut [[[__m512d; 2]; VECTORS]; 3]| {
        for axis in 0..3 {
            for vector in 0..VECTORS {
                let value = sum[axis][vector];
                let low = _mm512_cvtps_pd(_mm512_castps512_ps256(value));
                let high = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(value))));
                total[axis][vector][0] = _mm512_add_pd(total[axis][vector][0], low);
                total[axis][vector][1] = _mm512_add_pd(total[axis][vector][1], high);
            }
        }
    };
    let direct = &lists.direct;
    for start in (0..direct.gm.len()).step_by(COMPACT_BLOCK) {
        let end = (start + COMPACT_BLOCK).min(direct.gm.len());
        let mut sum = [[_mm512_setzero_ps(); VECTORS]; 3];
        for source in start..end {
            let source_x = _mm512_set1_ps(direct.x[source]);
            let source_y = _mm512_set1_ps(direct.y[source]);
            let source_z = _mm512_set1_ps(direct.z[source]);
            let gm = _mm512_set1_ps(direct.gm[source]);
            let gm_linear = _mm512_mul_ps(gm, three_halves);
            for vector in 0..VECTORS {
                let dx = _mm512_sub_ps(source_x, target_x[vector]);
                let dy = _mm512_sub_ps(source_y, target_y[vector]);
                let dz = _mm512_sub_ps(source_z, target_z[vector]);
                let r2 = _mm512_fmadd_ps(dx, dx, _mm512_fmadd_ps(dy, dy, _mm512_fmadd_ps(dz, dz, softening_squared)));
                // y ≈ 1/r; e = 1 − r² y²; r⁻³ = y³ (1 − e)^{-3/2} ≈ y³ (1 + 3/2 e).
                let estimate = _mm512_rsqrt14_ps(r2);
                let estimate_squared = _mm512_mul_ps(estimate, estimate);
                let error = _mm512_fnmadd_ps(r2, estimate_squared, one);
                let gm_series = _mm512_fmadd_ps(error, gm_linear, gm);
                let weight = _mm512_mul_ps(_mm512_mul_ps(estimate, estimate_squared), gm_series);
                sum[0][vector] = _mm512_fmadd_ps(weight, dx, sum[0][vector]);
                sum[1][vector] = _mm512_fmadd_ps(weight, dy, sum[1][vector]);
                sum[2][vector] = _mm512_fmadd_ps(weight, dz, sum[2][vector]);
            }
        }
        flush(&sum, &mut total);
    }
    let nodes = &lists.nodes;
    for start in (0..nodes.len()).step_by(COMPACT_BLOCK) {
        let end = (start + COMPACT_BLOCK).min(nodes.len());
        let mut sum = [[_mm512_setzero_ps(); VECTORS]; 3];
        for record in &nodes[start..end] {
            let [center_x, center_y, center_z, gm, xx, xy, xz, yy, yz, zz] = record.map(|value| _mm512_set1_ps(value));
            for vector in 0..VECTORS {
                let dx = _mm512_sub_ps(target_x[vector], center_x);
                let dy = _mm512_sub_ps(target_y[vector], center_y);
                let dz = _mm512_sub_ps(target_z[vector], center_z);
                let r2 = _mm512_fmadd_ps(dx, dx, _mm512_fmadd_ps(dy, dy, _mm512_fmadd_ps(dz, dz, softening_squared)));
                // 1/r = y (1 − e)^{-1/2} ≈ y (1 + e/2).
                let estimate = _mm512_rsqrt14_ps(r2);
                let error = _mm512_fnmadd_ps(r2, _mm512_mul_ps(estimate, estimate), one);
                let inverse_r = _mm512_fmadd_ps(_mm512_mul_ps(estimate, error), half, estimate);
                let inverse_r2 = _mm512_mul_ps(inverse_r, inverse_r);
                let inverse_r3 = _mm512_mul_ps(inverse_r, inverse_r2);
                let inverse_r5 = _mm512_mul_ps(inverse_r3, inverse_r2);
                let inverse_r7 = _mm512_mul_ps(inverse_r5, inverse_r2);
                let q_dx = _mm512_fmadd_ps(xx, dx, _mm512_fmadd_ps(xy, dy, _mm512_mul_ps(xz, dz)));
                let q_dy = _mm512_fmadd_ps(xy, dx, _mm512_fmadd_ps(yy, dy, _mm512_mul_ps(yz, dz)));
                let q_dz = _mm512_fmadd_ps(xz, dx, _mm512_fmadd_ps(yz, dy, _mm512_mul_ps(zz, dz)));
                let d_q_d = _mm512_fmadd_ps(dx, q_dx, _mm512_fmadd_ps(dy, q_dy, _mm512_mul_ps(dz, q_dz)));
                // −GM/r³ − 5/2 (dᵀQd)/r⁷, the coefficient of d.
                let radial = _mm512_fnmadd_ps(
                    gm,
                    inverse_r3,
                    _mm512_mul_ps(minus_five_halves, _mm512_mul_ps(d_q_d, inverse_r7)),
                );
                sum[0][vector] = _mm512_fmadd_ps(radial, dx, _mm512_fmadd_ps(q_dx, inverse_r5, sum[0][vector]));
                sum[1][vector] = _mm512_fmadd_ps(radial, dy, _mm512_fmadd_ps(q_dy, inverse_r5, sum[1][vector]));
                sum[2][vector] = _mm512_fmadd_ps(radial, dz, _mm512_fmadd_ps(q_dz, inverse_r5, sum[2][vector]));
            }
        }
        flush(&sum, &mut total);
    }
    let mut result = [[0.0; COMPACT_TARGETS]; 3];
    for (column, sums) in result.iter_mut().zip(&total) {
        // `sums` flattens to vector-major, low half first: the lanes in target order.
        for (chunk, sum) in column.chunks_exact_mut(8).zip(sums.iter().flatten()) {
            // SAFETY: each chunk holds exactly 8 f64.
            unsafe { _mm512_storeu_pd(chunk.as_mut_ptr(), *sum) };
        }
    }
    result
}

/// [`compact_group_avx512`] for AVX2 + FMA: the targets as 8-lane vectors, `1/r` from
/// `rsqrt_ps` (relative error < 1.5 · 2⁻¹²) with a second-order correction (~1e-9). Only the
/// vectors that hold the first `lanes` targets are computed; the rest of the result is zero.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn compact_group_avx2(
    lists: &super::tree::CompactLists,
    targets: &[[f32; COMPACT_TARGETS]; 3],
    lanes: usize,
    softening_squared: f32,
) -> [[f64; COMPACT_TARGETS]; 3] {
    // PERF: a constant vector count, so that the loops over vectors unroll.
    match lanes.div_ceil(8) {
        0 | 1 => compact_group_avx2_vectors::<1>(lists, targets, softening_squared),
        2 => compact_group_avx2_vectors::<2>(lists, targets, softening_squared),
        3 => compact_group_avx2_vectors::<3>(lists, targets, softening_squared),
        _ => compact_group_avx2_vectors::<4>(lists, targets, softening_squared),
    }
}

/// [`compact_group_avx2`] for the first `USED` vectors of targets.
#[target_feature(enable = "avx2,fma")]
fn compact_group_avx2_vectors<const USED: usize>(
    lists: &super::tree::CompactLists,
    targets: &[[f32; COMPACT_TARGETS]; 3],
    softening_squared: f32,
) -> [[f64; COMPACT_TARGETS]; 3] {
    const LANES: usize = 8;
    const VECTORS: usize = COMPACT_TARGETS / LANES;
    // SAFETY: each load reads LANES f32 at vector * LANES < COMPACT_TARGETS.
    let load = |column: &[f32; COMPACT_TARGETS], vector: usize| unsafe {
        _mm256_loadu_ps(column.as_ptr().add(vector * LANES))
    };
    let target_x: [__m256; VECTORS] = std::array::from_fn(|vector| load(&targets[0], vector));
    let target_y: [__m256; VECTORS] = std::array::from_fn(|vector| load(&targets[1], vector));
    let target_z: [__m256; VECTORS] = std::array::from_fn(|vector| load(&targets[2], vector));
    let softening_squared = _mm256_set1_ps(softening_squared);
    let one = _mm256_set1_ps(1.0);
    let half = _mm256_set1_ps(0.5);
    let three_eighths = _mm256_set1_ps(0.375);
    let three_halves = _mm256_set1_ps(1.5);
    let fifteen_eighths = _mm256_set1_ps(1.875);
    let minus_five_halves = _mm256_set1_ps(-2.5);
    // f64 accumulators: [axis][vector][half].
    let mut total = [[[_mm256_setzero_pd(); 2]; VECTORS]; 3];
    let flush = |sum: &[[__m256; VECTORS]; 3], total: &mut [[[__m256d; 2]; VECTORS]; 3]| {
        for axis in 0..3 {
            for vector in 0..VECTORS {
                let low = _mm256_cvtps_pd(_mm256_castps256_ps128(sum[axis][vector]));
                let high = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(sum[axis][vector]));
                total[axis][vector][0] = _mm256_add_pd(total[axis][vector][0], low);
                total[axis][vector][1] = _mm256_add_pd(total[axis][vector][1], high);
            }
        }
    };
    // PERF: one target vector at a time over a block of sources. Keeping all four in registers
    // (12 positions + 12 sums) would overflow AVX2's 16 registers and spill every iteration.
    let direct = &lists.direct;
    for start in (0..direct.gm.len()).step_by(COMPACT_BLOCK) {
        let end = (start + COMPACT_BLOCK).min(direct.gm.len());
        let (xs, ys, zs, gms) =
            (&direct.x[start..end], &direct.y[start..end], &direct.z[start..end], &direct.gm[start..end]);
        let mut sum = [[_mm256_setzero_ps(); VECTORS]; 3];
        for vector in 0..USED {
            let (tx, ty, tz) = (target_x[vector], target_y[vector], target_z[vector]);
            let (mut sum_x, mut sum_y, mut sum_z) = (_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps());
            for (((&x, &y), &z), &gm) in xs.iter().zip(ys).zip(zs).zip(gms) {
                let dx = _mm256_sub_ps(_mm256_set1_ps(x), tx);
                let dy = _mm256_sub_ps(_mm256_set1_ps(y), ty);
                let dz = _mm256_sub_ps(_mm256_set1_ps(z), tz);
                let r2 = _mm256_fmadd_ps(dx, dx, _mm256_fmadd_ps(dy, dy, _mm256_fmadd_ps(dz, dz, softening_squared)));
                // r⁻³ = y³ (1 − e)^{-3/2} ≈ y³ (1 + 3/2 e + 15/8 e²), e = 1 − r² y².
                let estimate = _mm256_rsqrt_ps(r2);
                let estimate_squared = _mm256_mul_ps(estimate, estimate);
                let error = _mm256_fnmadd_ps(r2, estimate_squared, one);
                let series = _mm256_fmadd_ps(_mm256_fmadd_ps(error, fifteen_eighths, three_halves), error, one);
                let weight =
                    _mm256_mul_ps(_mm256_mul_ps(estimate, estimate_squared), _mm256_mul_ps(series, _mm256_set1_ps(gm)));
                sum_x = _mm256_fmadd_ps(weight, dx, sum_x);
                sum_y = _mm256_fmadd_ps(weight, dy, sum_y);
                sum_z = _mm256_fmadd_ps(weight, dz, sum_z);
            }
            (sum[0][vector], sum[1][vector], sum[2][vector]) = (sum_x, sum_y, sum_z);
        }
        flush(&sum, &mut total);
    }
    let nodes = &lists.nodes;
    for start in (0..nodes.len()).step_by(COMPACT_BLOCK) {
        let end = (start + COMPACT_BLOCK).min(nodes.len());
        let mut sum = [[_mm256_setzero_ps(); VECTORS]; 3];
        for vector in 0..USED {
            let (tx, ty, tz) = (target_x[vector], target_y[vector], target_z[vector]);
            let (mut sum_x, mut sum_y, mut sum_z) = (_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps());
            for record in &nodes[start..end] {
                let [center_x, center_y, center_z, gm, xx, xy, xz, yy, yz, zz] =
                    record.map(|value| _mm256_set1_ps(value));
                let dx = _mm256_sub_ps(tx, center_x);
                let dy = _mm256_sub_ps(ty, center_y);
                let dz = _mm256_sub_ps(tz, center_z);
                let r2 = _mm256_fmadd_ps(dx, dx, _mm256_fmadd_ps(dy, dy, _mm256_fmadd_ps(dz, dz, softening_squared)));
                // 1/r = y (1 − e)^{-1/2} ≈ y (1 + e/2 + 3/8 e²).
                let estimate = _mm256_rsqrt_ps(r2);
                let error = _mm256_fnmadd_ps(r2, _mm256_mul_ps(estimate, estimate), one);
                let series = _mm256_fmadd_ps(error, three_eighths, half);
                let inverse_r = _mm256_fmadd_ps(_mm256_mul_ps(estimate, error), series, estimate);
                let inverse_r2 = _mm256_mul_ps(inverse_r, inverse_r);
                let inverse_r3 = _mm256_mul_ps(inverse_r, inverse_r2);
                let inverse_r5 = _mm256_mul_ps(inverse_r3, inverse_r2);
                let inverse_r7 = _mm256_mul_ps(inverse_r5, inverse_r2);
                let q_dx = _mm256_fmadd_ps(xx, dx, _mm256_fmadd_ps(xy, dy, _mm256_mul_ps(xz, dz)));
                let q_dy = _mm256_fmadd_ps(xy, dx, _mm256_fmadd_ps(yy, dy, _mm256_mul_ps(yz, dz)));
                let q_dz = _mm256_fmadd_ps(xz, dx, _mm256_fmadd_ps(yz, dy, _mm256_mul_ps(zz, dz)));
                let d_q_d = _mm256_fmadd_ps(dx, q_dx, _mm256_fmadd_ps(dy, q_dy, _mm256_mul_ps(dz, q_dz)));
                let radial = _mm256_fnmadd_ps(
                    gm,
                    inverse_r3,
                    _mm256_mul_ps(minus_five_halves, _mm256_mul_ps(d_q_d, inverse_r7)),
                );
                sum_x = _mm256_fmadd_ps(radial, dx, _mm256_fmadd_ps(q_dx, inverse_r5, sum_x));
                sum_y = _mm256_fmadd_ps(radial, dy, _mm256_fmadd_ps(q_dy, inverse_r5, sum_y));
                sum_z = _mm256_fmadd_ps(radial, dz, _mm256_fmadd_ps(q_dz, inverse_r5, sum_z));
            }
            (sum[0][vector], sum[1][vector], sum[2][vector]) = (sum_x, sum_y, sum_z);
        }
        flush(&sum, &mut total);
    }
    let mut result = [[0.0; COMPACT_TARGETS]; 3];
    for (column, sums) in result.iter_mut().zip(&total) {
        // `sums` flattens to vector-major, low half first: the lanes in target order.
        for (chunk, sum) in column.chunks_exact_mut(4).zip(sums.iter().flatten()) {
            // SAFETY: each chunk holds exactly 4 f64.
            unsafe { _mm256_storeu_pd(chunk.as_mut_ptr(), *sum) };
        }
    }
    result
}

/// Appends `(value − center) · scale` in f32 for each value: the conversion into the tree's
/// f32 lists. PERF: compiled for AVX2 it converts four or eight at a time, not two (SSE2).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn extend_relative(output: &mut Vec<f32>, values: &[f64], center: f64, scale: f64) {
    output.extend(values.iter().map(|&value| ((value - center) * scale) as f32));
}

/// Appends the bodies of `ranges` to `output` as f32 `(value − center) · scale` columns, with
/// their `G m / L²` from `gm`: the same values as [`extend_relative`], eight bodies per
/// masked step of all four columns. PERF: direct lists are ~200 ranges of ~12 bodies per
/// group; one pass without tails or per-column reserves costs a fraction of three.
///
/// # Safety
/// The CPU must support AVX-512F; every range must lie within the columns and `gm`.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn extend_relative_ranges_avx512(
    output: &mut super::tree::CompactSources,
    ranges: &[(u32, u32)],
    columns: [&[f64]; 3],
    gm: &[f32],
    center: [f64; 3],
    scale: f64,
) {
    let added: usize = ranges.iter().map(|&(first, end)| (end - first) as usize).sum();
    let start = output.gm.len();
    for column in [&mut output.x, &mut output.y, &mut output.z, &mut output.gm] {
        assert_eq!(column.len(), start, "the direct columns differ in length");
        column.reserve(added);
    }
    let targets = [output.x.as_mut_ptr(), output.y.as_mut_ptr(), output.z.as_mut_ptr()];
    let target_gm = output.gm.as_mut_ptr();
    let center = center.map(|value| _mm512_set1_pd(value));
    let scale = _mm512_set1_pd(scale);
    let mut written = start;
    for &(first, end) in ranges {
        let (first, end) = (first as usize, end as usize);
        assert!(end <= gm.len() && columns.iter().all(|column| end <= column.len()), "range out of bounds");
        let mut body = first;
        while body < end {
            let mask = (u16::MAX >> (16 - (end - body).min(8))) as __mmask8;
            for axis in 0..3 {
                // SAFETY: masked lanes stay within `body..end`, inside the column (asserted) and
                // within the reserved output.
                unsafe {
                    let values = _mm512_maskz_loadu_pd(mask, columns[axis].as_ptr().add(body));
                    let relative = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_sub_pd(values, center[axis]), scale));
                    _mm512_mask_storeu_ps(
                        targets[axis].add(written),
                        __mmask16::from(mask),
                        _mm512_castps256_ps512(relative),
                    );
                }
            }
            // SAFETY: as above, for `gm`.
            unsafe {
                let masses = _mm512_maskz_loadu_ps(__mmask16::from(mask), gm.as_ptr().add(body));
                _mm512_mask_storeu_ps(target_gm.add(written), __mmask16::from(mask), masses);
            }
            let count = (end - body).min(8);
            body += count;
            written += count;
        }
    }
    // SAFETY: every element up to `written` was stored above, within the reserved capacity.
    unsafe {
        output.x.set_len(written);
        output.y.set_len(written);
        output.z.set_len(written);
        output.gm.set_len(written);
    }
}
