//! The reference kernel: one interaction at a time, written to be read, not to be fast.

use super::{BLOCK, BlockOutput, SourceColumns, TargetBlock};

pub(super) fn block<const PROXIMITY: bool>(
    sources: &SourceColumns<'_>,
    block: &TargetBlock<'_>,
    softening_squared: f64,
    result: &mut BlockOutput<'_>,
) {
    for lane in 0..BLOCK {
        let (target_x, target_y, target_z) = (block.x[lane], block.y[lane], block.z[lane]);
        let (mut acceleration_x, mut acceleration_y, mut acceleration_z) = (0.0, 0.0, 0.0);
        let mut proximity = f64::INFINITY;
        for source in 0..sources.gm.len() {
            let dx = sources.x[source] - target_x;
            let dy = sources.y[source] - target_y;
            let dz = sources.z[source] - target_z;
            let distance_squared = dx * dx + dy * dy + dz * dz + softening_squared;
            if distance_squared > 0.0 {
                let distance = distance_squared.sqrt();
                let weight = sources.gm[source] / (distance_squared * distance);
                acceleration_x += weight * dx;
                acceleration_y += weight * dy;
                acceleration_z += weight * dz;
            }
            if PROXIMITY {
                proximity = proximity.min(distance_squared - sources.collision_threshold[source]);
            }
        }
        result.x[lane] = acceleration_x;
        result.y[lane] = acceleration_y;
        result.z[lane] = acceleration_z;
        result.proximity[lane] = proximity;
    }
}
