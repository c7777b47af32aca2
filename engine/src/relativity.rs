//! The first post-Newtonian correction of the heaviest body's field (see [`PostNewtonian`]).

use crate::bodies::Bodies;
use crate::params::PostNewtonian;

/// Adds the 1PN acceleration of every body around the heaviest one to the bodies' cached
/// accelerations, and its reaction to the heavy body. Velocities are whatever the state holds
/// at the call (in kick-drift-kick, the half-step velocities): the correction is ~1e-8 of
/// Newtonian gravity, so the O(dt) lag this adds to it is far below the integrator's error.
pub(crate) fn add_post_newtonian(bodies: &mut Bodies, gravitational_parameter: &[f64], correction: PostNewtonian) {
    let Some(central) = heaviest(&bodies.mass) else { return };
    let mu = gravitational_parameter[central];
    if mu <= 0.0 {
        return;
    }
    let inverse_c_squared = 1.0 / (correction.speed_of_light * correction.speed_of_light);
    let (central_position, central_velocity) = (bodies.position(central), bodies.velocity(central));
    let mut reaction = glam::DVec3::ZERO;
    for body in 0..bodies.len() {
        if body == central {
            continue;
        }
        let position = bodies.position(body) - central_position;
        let velocity = bodies.velocity(body) - central_velocity;
        let distance = position.length();
        if distance <= 0.0 {
            continue;
        }
        let scale = mu * inverse_c_squared / (distance * distance * distance);
        let acceleration = (position * (4.0 * mu / distance - velocity.length_squared())
            + velocity * (4.0 * position.dot(velocity)))
            * scale;
        bodies.acceleration_x[body] += acceleration.x;
        bodies.acceleration_y[body] += acceleration.y;
        bodies.acceleration_z[body] += acceleration.z;
        reaction -= acceleration * (bodies.mass[body] / bodies.mass[central]);
    }
    bodies.acceleration_x[central] += reaction.x;
    bodies.acceleration_y[central] += reaction.y;
    bodies.acceleration_z[central] += reaction.z;
}

/// The heaviest body (the lowest index among equals), if any has mass.
fn heaviest(mass: &[f64]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (index, &value) in mass.iter().enumerate() {
        if value > 0.0 && best.is_none_or(|current| value > mass[current]) {
            best = Some(index);
        }
    }
    best
}
