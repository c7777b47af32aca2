//! Self-gravity with each pair computed once (Newton's third law), for AVX-512.
//!
//! Bodies are padded to tiles of eight (one vector); a tile pair `(I, J)` is done in eight
//! steps, rotating J's lanes by one each step, so every `i ∈ I` meets every `j ∈ J` once and
//! both get their share: `a_i += G m_j d / r³`, `a_j −= G m_i d / r³`. That is half the
//! arithmetic of the one-sided kernel per interaction counted as N².
//!
//! Determinism: tiles are grouped into super-tiles of [`SUPER_TILE`] bodies. A fixed
//! round-robin schedule pairs super-tiles so that the pairs of one round touch disjoint bodies;
//! rounds run one after another and the pairs of a round in parallel. Every body's sum is
//! therefore added up in the same order whatever the thread count.

use core::arch::x86_64::*;

use super::SourceColumns;

const LANES: usize = 8;
/// Bodies per super-tile: the unit of parallel work (32 tiles, 256 bodies: ~130k interactions
/// per super-tile pair, far above rayon's per-task cost).
pub(super) const SUPER_TILE: usize = 256;

/// Padded copies of the source columns, in tiles of [`LANES`], and the same tiles written
/// twice over (`j0..j7 j0..j7`): an unaligned load at offset `r` of a doubled tile is that
/// tile rotated by `r` lanes. PERF: loads replace four of the seven lane rotations per step,
/// which on Zen 4 compete with the FMAs for the same pipes.
struct Padded {
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    gm: Vec<f64>,
    doubled_x: Vec<f64>,
    doubled_y: Vec<f64>,
    doubled_z: Vec<f64>,
    doubled_gm: Vec<f64>,
}

fn doubled_tiles(column: &[f64]) -> Vec<f64> {
    column.chunks_exact(LANES).flat_map(|tile| tile.iter().chain(tile)).copied().collect()
}

/// Accumulators of one super-tile.
struct SuperTileAccelerations<'a> {
    start: usize,
    x: &'a mut [f64],
    y: &'a mut [f64],
    z: &'a mut [f64],
}

/// Accelerations of the sources on themselves, each pair computed once.
///
/// # Safety
/// The CPU must support AVX-512F.
pub(super) unsafe fn self_accelerations_avx512(
    sources: &SourceColumns<'_>,
    softening_squared: f64,
    output_x: &mut [f64],
    output_y: &mut [f64],
    output_z: &mut [f64],
) {
    let count = sources.gm.len();
    if count == 0 {
        return;
    }
    let padded_count = count.div_ceil(LANES) * LANES;
    // Padding bodies are massless copies of the last body: they pull on nothing, and what pulls
    // on them is discarded. (Without softening they sit on top of it; the mask covers that.)
    let pad = |column: &[f64], value: f64| {
        let mut padded = Vec::with_capacity(padded_count);
        padded.extend_from_slice(column);
        padded.resize(padded_count, value);
        padded
    };
    let last = count - 1;
    let (x, y, z, gm) = (
        pad(sources.x, sources.x[last]),
        pad(sources.y, sources.y[last]),
        pad(sources.z, sources.z[last]),
        pad(sources.gm, 0.0),
    );
    let padded = Padded {
        doubled_x: doubled_tiles(&x),
        doubled_y: doubled_tiles(&y),
        doubled_z: doubled_tiles(&z),
        doubled_gm: doubled_tiles(&gm),
        x,
        y,
        z,
        gm,
    };
    let may_coincide = softening_squared <= 0.0;
    let mut acceleration_x = vec![0.0; padded_count];
    let mut acceleration_y = vec![0.0; padded_count];
    let mut acceleration_z = vec![0.0; padded_count];
    let super_tiles = padded_count.div_ceil(SUPER_TILE);

    let mut slots = super_tile_slots(&mut acceleration_x, &mut acceleration_y, &mut acceleration_z);
    // Pairs inside each super-tile: disjoint by construction.
    let within: Vec<SuperTileAccelerations<'_>> = slots.iter_mut().filter_map(Option::take).collect();
    let run_within = |mut tile: SuperTileAccelerations<'_>| {
        // SAFETY: the caller guarantees AVX-512F.
        unsafe { within_super_tile(&padded, softening_squared, may_coincide, &mut tile) }
    };
    for_each_maybe_parallel(within, run_within);

    // Pairs of different super-tiles, one round at a time.
    for round in round_robin(super_tiles) {
        let mut slots = super_tile_slots(&mut acceleration_x, &mut acceleration_y, &mut acceleration_z);
        let pairs: Vec<(SuperTileAccelerations<'_>, SuperTileAccelerations<'_>)> = round
            .into_iter()
            .filter_map(|(first, second)| Some((slots[first].take()?, slots[second].take()?)))
            .collect();
        let run_pair = |(mut first, mut second): (SuperTileAccelerations<'_>, SuperTileAccelerations<'_>)| {
            // SAFETY: the caller guarantees AVX-512F.
            unsafe { between_super_tiles(&padded, softening_squared, may_coincide, &mut first, &mut second) }
        };
        for_each_maybe_parallel(pairs, run_pair);
    }
    output_x.copy_from_slice(&acceleration_x[..count]);
    output_y.copy_from_slice(&acceleration_y[..count]);
    output_z.copy_from_slice(&acceleration_z[..count]);
}

fn for_each_maybe_parallel<T: Send>(items: Vec<T>, work: impl Fn(T) + Sync + Send) {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        if items.len() > 1 {
            items.into_par_iter().for_each(work);
            return;
        }
    }
    items.into_iter().for_each(work);
}

fn super_tile_slots<'a>(
    x: &'a mut [f64],
    y: &'a mut [f64],
    z: &'a mut [f64],
) -> Vec<Option<SuperTileAccelerations<'a>>> {
    x.chunks_mut(SUPER_TILE)
        .zip(y.chunks_mut(SUPER_TILE))
        .zip(z.chunks_mut(SUPER_TILE))
        .enumerate()
        .map(|(index, ((x, y), z))| Some(SuperTileAccelerations { start: index * SUPER_TILE, x, y, z }))
        .collect()
}

/// The circle method: `count` super-tiles (plus a bye when odd) in `count − 1` rounds (or
/// `count`), each pair of distinct super-tiles exactly once, no super-tile twice in a round.
fn round_robin(count: usize) -> Vec<Vec<(usize, usize)>> {
    if count < 2 {
        return Vec::new();
    }
    let teams = count + count % 2;
    let fixed = teams - 1;
    let rotating = teams - 1;
    (0..rotating)
        .map(|round| {
            let mut pairs = vec![(round, fixed)];
            for offset in 1..teams / 2 {
                pairs.push(((round + offset) % rotating, (round + rotating - offset) % rotating));
            }
            // The bye (index `count` when the count is odd) sits this round out.
            pairs.retain(|&(first, second)| first < count && second < count);
            pairs
        })
        .collect()
}

#[target_feature(enable = "avx512f")]
unsafe fn within_super_tile(
    padded: &Padded,
    softening_squared: f64,
    may_coincide: bool,
    tile: &mut SuperTileAccelerations<'_>,
) {
    let tiles = tile.x.len() / LANES;
    for first in 0..tiles {
        // SAFETY: `first < tiles`, so the tile lies inside this super-tile.
        unsafe { self_tile(padded, softening_squared, may_coincide, tile, first * LANES) };
        for second in first + 1..tiles {
            let (first_offset, second_offset) = (first * LANES, second * LANES);
            // SAFETY: both tiles lie inside this super-tile.
            unsafe {
                tile_pair(
                    padded,
                    softening_squared,
                    may_coincide,
                    (tile.start + first_offset, tile.start + second_offset),
                    tile,
                    first_offset,
                    None,
                    second_offset,
                )
            };
        }
    }
}

#[target_feature(enable = "avx512f")]
unsafe fn between_super_tiles(
    padded: &Padded,
    softening_squared: f64,
    may_coincide: bool,
    first: &mut SuperTileAccelerations<'_>,
    second: &mut SuperTileAccelerations<'_>,
) {
    for first_offset in (0..first.x.len()).step_by(LANES) {
        for second_offset in (0..second.x.len()).step_by(LANES) {
            // SAFETY: both offsets address whole tiles of their super-tiles.
            unsafe {
                tile_pair(
                    padded,
                    softening_squared,
                    may_coincide,
                    (first.start + first_offset, second.start + second_offset),
                    first,
                    first_offset,
                    Some(&mut *second),
                    second_offset,
                )
            };
        }
    }
}

#[inline]
#[target_feature(enable = "avx512f")]
fn rotate(vector: __m512d) -> __m512d {
    let bits = _mm512_castpd_si512(vector);
    _mm512_castsi512_pd(_mm512_alignr_epi64::<1>(bits, bits))
}

/// `r⁻³` from `r²`: the same estimate and series as the one-sided AVX-512 kernel.
#[inline]
#[target_feature(enable = "avx512f")]
fn inverse_cube(distance_squared: __m512d, may_coincide: bool) -> __m512d {
    let one = _mm512_set1_pd(1.0);
    let estimate = _mm512_rsqrt14_pd(distance_squared);
    let estimate_squared = _mm512_mul_pd(estimate, estimate);
    let error = _mm512_fnmadd_pd(distance_squared, estimate_squared, one);
    let series = _mm512_fmadd_pd(error, _mm512_set1_pd(35.0 / 16.0), _mm512_set1_pd(15.0 / 8.0));
    let series = _mm512_fmadd_pd(series, error, _mm512_set1_pd(1.5));
    let series = _mm512_fmadd_pd(series, error, one);
    let estimate_cubed = _mm512_mul_pd(estimate, estimate_squared);
    if may_coincide {
        // Coincident bodies (no softening) attract each other not at all, instead of NaN.
        let separated = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(distance_squared, _mm512_setzero_pd());
        _mm512_maskz_mul_pd(separated, estimate_cubed, series)
    } else {
        _mm512_mul_pd(estimate_cubed, series)
    }
}

/// Loads eight lanes of a column at `offset`.
///
/// # Safety
/// `offset + LANES <= column.len()`.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn load(column: &[f64], offset: usize) -> __m512d {
    debug_assert!(offset + LANES <= column.len());
    // SAFETY: the caller keeps the eight lanes inside the column.
    unsafe { _mm512_loadu_pd(column.as_ptr().add(offset)) }
}

/// Adds eight lanes into a column at `offset`.
///
/// # Safety
/// `offset + LANES <= column.len()`.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn add_into(column: &mut [f64], offset: usize, value: __m512d) {
    debug_assert!(offset + LANES <= column.len());
    // SAFETY: the caller keeps the eight lanes inside the column.
    unsafe {
        let pointer = column.as_mut_ptr().add(offset);
        _mm512_storeu_pd(pointer, _mm512_add_pd(_mm512_loadu_pd(pointer), value));
    }
}

/// The pairs inside one tile, one-sided (each body gathers from its seven neighbours).
///
/// # Safety
/// `offset + LANES <= tile.x.len()`.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn self_tile(
    padded: &Padded,
    softening_squared: f64,
    may_coincide: bool,
    tile: &mut SuperTileAccelerations<'_>,
    offset: usize,
) {
    let global = tile.start + offset;
    // SAFETY: the tile lies inside the padded columns and the super-tile.
    unsafe {
        let (x, y, z) = (load(&padded.x, global), load(&padded.y, global), load(&padded.z, global));
        let (mut other_x, mut other_y, mut other_z, mut other_gm) = (x, y, z, load(&padded.gm, global));
        let softening_squared = _mm512_set1_pd(softening_squared);
        let (mut sum_x, mut sum_y, mut sum_z) = (_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd());
        for _ in 1..LANES {
            other_x = rotate(other_x);
            other_y = rotate(other_y);
            other_z = rotate(other_z);
            other_gm = rotate(other_gm);
            let dx = _mm512_sub_pd(other_x, x);
            let dy = _mm512_sub_pd(other_y, y);
            let dz = _mm512_sub_pd(other_z, z);
            let distance_squared =
                _mm512_fmadd_pd(dx, dx, _mm512_fmadd_pd(dy, dy, _mm512_fmadd_pd(dz, dz, softening_squared)));
            let weight = _mm512_mul_pd(inverse_cube(distance_squared, may_coincide), other_gm);
            sum_x = _mm512_fmadd_pd(weight, dx, sum_x);
            sum_y = _mm512_fmadd_pd(weight, dy, sum_y);
            sum_z = _mm512_fmadd_pd(weight, dz, sum_z);
        }
        add_into(tile.x, offset, sum_x);
        add_into(tile.y, offset, sum_y);
        add_into(tile.z, offset, sum_z);
    }
}

/// Every pair between tile `first` and tile `second` once: both tiles get their share.
/// `second` is `None` when both tiles live in the same super-tile (`first_tile`).
///
/// # Safety
/// Both offsets address whole tiles of their super-tiles, and `globals` are their positions
/// in the padded columns.
#[inline]
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
unsafe fn tile_pair(
    padded: &Padded,
    softening_squared: f64,
    may_coincide: bool,
    globals: (usize, usize),
    first_tile: &mut SuperTileAccelerations<'_>,
    first_offset: usize,
    second_tile: Option<&mut SuperTileAccelerations<'_>>,
    second_offset: usize,
) {
    let (first_global, second_global) = globals;
    // SAFETY: the tiles lie inside the padded columns and their super-tiles.
    unsafe {
        let (x, y, z) = (load(&padded.x, first_global), load(&padded.y, first_global), load(&padded.z, first_global));
        let gm = load(&padded.gm, first_global);
        let doubled = 2 * second_global;
        let softening_squared = _mm512_set1_pd(softening_squared);
        let (mut sum_x, mut sum_y, mut sum_z) = (_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd());
        let (mut other_sum_x, mut other_sum_y, mut other_sum_z) =
            (_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd());
        for rotation in 0..LANES {
            // Lane l holds body (l + rotation) mod 8 of the second tile.
            let other_x = load(&padded.doubled_x, doubled + rotation);
            let other_y = load(&padded.doubled_y, doubled + rotation);
            let other_z = load(&padded.doubled_z, doubled + rotation);
            let other_gm = load(&padded.doubled_gm, doubled + rotation);
            let dx = _mm512_sub_pd(other_x, x);
            let dy = _mm512_sub_pd(other_y, y);
            let dz = _mm512_sub_pd(other_z, z);
            let distance_squared =
                _mm512_fmadd_pd(dx, dx, _mm512_fmadd_pd(dy, dy, _mm512_fmadd_pd(dz, dz, softening_squared)));
            let inverse_cube = inverse_cube(distance_squared, may_coincide);
            let weight = _mm512_mul_pd(inverse_cube, other_gm);
            let reaction = _mm512_mul_pd(inverse_cube, gm);
            sum_x = _mm512_fmadd_pd(weight, dx, sum_x);
            sum_y = _mm512_fmadd_pd(weight, dy, sum_y);
            sum_z = _mm512_fmadd_pd(weight, dz, sum_z);
            other_sum_x = _mm512_fnmadd_pd(reaction, dx, other_sum_x);
            other_sum_y = _mm512_fnmadd_pd(reaction, dy, other_sum_y);
            other_sum_z = _mm512_fnmadd_pd(reaction, dz, other_sum_z);
            // The reactions follow the lanes; after eight rotations they are back in place.
            other_sum_x = rotate(other_sum_x);
            other_sum_y = rotate(other_sum_y);
            other_sum_z = rotate(other_sum_z);
        }
        add_into(first_tile.x, first_offset, sum_x);
        add_into(first_tile.y, first_offset, sum_y);
        add_into(first_tile.z, first_offset, sum_z);
        let (second_x, second_y, second_z) = match second_tile {
            Some(second) => (&mut *second.x, &mut *second.y, &mut *second.z),
            None => (&mut *first_tile.x, &mut *first_tile.y, &mut *first_tile.z),
        };
        add_into(second_x, second_offset, other_sum_x);
        add_into(second_y, second_offset, other_sum_y);
        add_into(second_z, second_offset, other_sum_z);
    }
}

#[cfg(test)]
mod tests {
    use super::round_robin;

    #[test]
    fn round_robin_meets_every_pair_once_and_no_one_twice_a_round() {
        for count in 0..12 {
            let mut seen = std::collections::HashSet::new();
            for round in round_robin(count) {
                let mut busy = std::collections::HashSet::new();
                for (first, second) in round {
                    assert!(first != second && first < count && second < count);
                    assert!(busy.insert(first) && busy.insert(second), "{count}: twice in a round");
                    assert!(seen.insert((first.min(second), first.max(second))), "{count}: pair twice");
                }
            }
            assert_eq!(seen.len(), count * count.saturating_sub(1) / 2, "{count}");
        }
    }
}
