//! `GravityMethod::Auto`: direct summation below `AUTO_TREE_MIN_BODIES` bodies and the
//! Barnes–Hut tree from there on, bit for bit what the chosen method computes, kept by
//! snapshots, and refused with a bad opening angle like the tree.
#![allow(clippy::unwrap_used)]

mod common;

use galaxy_engine::{AUTO_TREE_MIN_BODIES, GravityMethod, SimParams, Simulation};

fn params(gravity: GravityMethod) -> SimParams {
    SimParams { gravitational_constant: 1.0, softening: 0.01, substep: 1e-3, gravity, ..SimParams::default() }
}

fn stepped(gravity: GravityMethod, count: usize) -> Vec<u64> {
    let mut simulation = common::system(params(gravity), &common::random_cloud(count, 7));
    simulation.step(2);
    common::state_bits(&simulation)
}

#[test]
fn auto_picks_the_method_by_the_number_of_bodies() {
    let auto = GravityMethod::Auto { opening_angle: 0.5 };
    assert_eq!(auto.for_bodies(AUTO_TREE_MIN_BODIES - 1), GravityMethod::Direct);
    assert_eq!(auto.for_bodies(AUTO_TREE_MIN_BODIES), GravityMethod::BarnesHut { opening_angle: 0.5 });
    assert_eq!(GravityMethod::Direct.for_bodies(usize::MAX), GravityMethod::Direct);
    let tree = GravityMethod::BarnesHut { opening_angle: 0.7 };
    assert_eq!(tree.for_bodies(3), tree);
}

#[test]
fn auto_steps_exactly_as_the_method_it_picks() {
    let auto = GravityMethod::Auto { opening_angle: 0.5 };
    let small = AUTO_TREE_MIN_BODIES - 1;
    assert_eq!(stepped(auto, small), stepped(GravityMethod::Direct, small));
    let large = AUTO_TREE_MIN_BODIES;
    let tree = stepped(GravityMethod::BarnesHut { opening_angle: 0.5 }, large);
    assert_eq!(stepped(auto, large), tree);
    assert_ne!(stepped(GravityMethod::Direct, large), tree, "the tree is an approximation: it must differ");
}

#[test]
fn auto_survives_a_snapshot_and_is_validated_like_the_tree() {
    let auto = GravityMethod::Auto { opening_angle: 0.6 };
    let simulation = common::system(params(auto), &common::random_cloud(10, 3));
    let restored = Simulation::from_snapshot(&simulation.to_snapshot()).unwrap();
    assert_eq!(restored.params().gravity, auto);
    for opening_angle in [0.0, -1.0, f64::NAN, 2.0] {
        assert!(Simulation::new(params(GravityMethod::Auto { opening_angle })).is_err(), "theta {opening_angle}");
    }
}
