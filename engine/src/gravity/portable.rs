//! The portable SIMD kernel: `wide::f64x4` lanes. Its instruction set is whatever the crate was
//! compiled for (SSE2 in a default x86-64 build), so it is the path every CPU can run.

use wide::f64x4;

use super::{BLOCK, BlockOutput, SourceColumns, TargetBlock};

const LANES: usize = 4;
const VECTORS: usize = BLOCK / LANES;

fn load(column: &[f64; BLOCK], vector: usize) -> f64x4 {
    let start = vector * LANES;
    f64x4::from([column[start], column[start + 1], column[start + 2], column[start + 3]])
}

fn store(column: &mut [f64; BLOCK], vector: usize, value: f64x4) {
    column[vector * LANES..(vector + 1) * LANES].copy_from_slice(&value.to_array());
}

pub(super) fn block<const PROXIMITY: bool>(
    sources: &SourceColumns<'_>,
    block: &TargetBlock<'_>,
    softening_squared: f64,
    result: &mut BlockOutput<'_>,
) {
    let target_x: [f64x4; VECTORS] = std::array::from_fn(|vector| load(block.x, vector));
    let target_y: [f64x4; VECTORS] = std::array::from_fn(|vector| load(block.y, vector));
    let target_z: [f64x4; VECTORS] = std::array::from_fn(|vector| load(block.z, vector));
    let mut acceleration_x = [f64x4::ZERO; VECTORS];
    let mut acceleration_y = [f64x4::ZERO; VECTORS];
    let mut acceleration_z = [f64x4::ZERO; VECTORS];
    let mut proximity = [f64x4::splat(f64::INFINITY); VECTORS];
    let softening_squared = f64x4::splat(softening_squared);
    let zero = f64x4::ZERO;
    for source in 0..sources.gm.len() {
        let source_x = f64x4::splat(sources.x[source]);
        let source_y = f64x4::splat(sources.y[source]);
        let source_z = f64x4::splat(sources.z[source]);
        let source_gm = f64x4::splat(sources.gm[source]);
        for vector in 0..VECTORS {
            let dx = source_x - target_x[vector];
            let dy = source_y - target_y[vector];
            let dz = source_z - target_z[vector];
            let distance_squared = dx.mul_add(dx, dy.mul_add(dy, dz.mul_add(dz, softening_squared)));
            let weight = source_gm / (distance_squared * distance_squared.sqrt());
            // A source on top of the target (only possible without softening) adds nothing.
            let weight = distance_squared.simd_gt(zero).select(weight, zero);
            acceleration_x[vector] = weight.mul_add(dx, acceleration_x[vector]);
            acceleration_y[vector] = weight.mul_add(dy, acceleration_y[vector]);
            acceleration_z[vector] = weight.mul_add(dz, acceleration_z[vector]);
            if PROXIMITY {
                let threshold = f64x4::splat(sources.collision_threshold[source]);
                proximity[vector] = proximity[vector].min(distance_squared - threshold);
            }
        }
    }
    for vector in 0..VECTORS {
        store(result.x, vector, acceleration_x[vector]);
        store(result.y, vector, acceleration_y[vector]);
        store(result.z, vector, acceleration_z[vector]);
        store(result.proximity, vector, proximity[vector]);
    }
}
