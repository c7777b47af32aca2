//! Barnes–Hut gravity: a linear octree rebuilt every step, with monopole and quadrupole
//! moments, walked once per group of nearby targets.
//!
//! Build: bodies get 63-bit Morton keys in their bounding cube; sorting by key (in parallel)
//! puts every octree cell's bodies in one contiguous range. The nodes are laid out depth first
//! in one flat array, each with a `next` link to the node after its subtree, so a walk needs
//! no stack. Moments are summed bottom-up (children follow their parent in the array).
//!
//! Walk: targets are taken in groups of 64 consecutive in key order (bodies and ships alike),
//! eight groups to a cluster that walks the far tree once for all of them (see
//! `evaluate_cluster`). For each group one stackless walk builds two shared lists — accepted
//! nodes (multipole interactions) and opened leaves (direct interactions) — then every target
//! of the group is evaluated against them in SIMD lanes, 32 targets per kernel call. On the
//! x86 SIMD paths both lists are summed in f32, with positions relative to the group's centre
//! in units of a power of two near the softening (so rounding is relative to the group–source
//! distance, ~1e-7, against a tree error of ~1e-4); groups too spread out for that, unsoftened
//! trees and the scalar and portable paths use the f64 kernels (the direct part by the same
//! kernels as direct summation). Groups are independent and each is computed in a fixed
//! order, so the result does not depend on the thread count.
//!
//! Acceptance: a node whose bodies' tight bounding box has longest side `s`, and whose centre of
//! mass lies `δ` from that box's centre, is used as a multipole when the centre of mass is
//! farther than `s/θ + δ` from every point of the group's bounding box (the `δ` term guards
//! against centres of mass near the box's edge). PERF: the tight box (as Bonsai uses) instead of
//! the octree cell keeps the same worst case, `b_max ≤ δ + (√3/2) s`, while a sparse cell's
//! bodies usually fill a fraction of it (16k Plummer: 7.2–7.5 against 7.7–8.1 ms per step).

use super::{AccelerationColumns, BLOCK, ChunkOutput, KernelPath, SourceColumns, TargetColumns, chunk_accelerations};

/// Subtrees of at most this many bodies get their moments computed as one parallel task.
const PARALLEL_SUBTREE_BODIES: usize = 2048;
/// Elements per parallel task of the build's element-wise steps.
#[cfg(feature = "parallel")]
const PARALLEL_MIN_ELEMENTS: usize = 4096;
/// Most bodies in a leaf. PERF: with 64-target groups, 8, 12 and 16 were 3–8% slower at 16k
/// than 32, and 48 was 5% slower.
const LEAF_SIZE: usize = 32;
/// Targets that share one walk and its interaction lists (two f32 kernel calls). PERF: with
/// the f32 kernels, walking and converting the lists cost about half as much as the
/// interactions; 64 targets halve them for a few percent more interactions each (16k
/// Plummer on AVX-512: 8.2 against 8.6–9.3 ms; 96 or 128 targets gained nothing more).
const GROUP_SIZE: usize = 2 * COMPACT_TARGETS;
/// Targets that share one walk of the far tree (see `Octree::evaluate_cluster`): 8 groups.
const CLUSTER_SIZE: usize = 8 * GROUP_SIZE;
/// Targets of one f32 group kernel call (half a group).
pub(super) const COMPACT_TARGETS: usize = 32;
/// Accepted nodes with at most this many bodies are summed directly: a monopole + quadrupole
/// interaction costs about as much as three direct ones.
const SMALL_NODE_BODIES: usize = 2;
/// Morton bits per axis: 21 × 3 = 63 bits. Bodies closer than the cube's side / 2²¹ share a
/// key and end up in one (possibly larger) leaf, which is still computed exactly.
const KEY_BITS: u32 = 21;

/// Hot data of a node, read by every walk.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct NodeGeometry {
    center_of_mass: [f64; 3],
    /// `s/θ + δ` (tight box): how far the centre of mass must be from a group for the node to
    /// be accepted.
    opening_distance: f64,
    /// First body (in key order) and how many.
    first_body: u32,
    body_count: u32,
    /// The node after this node's subtree, in depth-first order.
    next: u32,
    is_leaf: bool,
    /// The box that tightly bounds the node's bodies.
    low: [f64; 3],
    high: [f64; 3],
}

/// What the walk reads of a node: 32 bytes, two to a cache line. PERF: the walk is bound by
/// loading nodes, so the cold fields (the body range) live apart, in `Octree::node_bodies`.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(32))]
struct WalkNode {
    center_of_mass: [f64; 3],
    /// The square of [`NodeGeometry::opening_distance`], rounded up to f32 (a node is opened a
    /// hair sooner than exact, never later).
    opening_distance_squared: f32,
    /// The node after this node's subtree; `index + 1` exactly when the node is a leaf.
    next: u32,
}

/// Multipole moments of a node (G included): monopole `G M` and the traceless quadrupole
/// `G Σ m (3 x xᵀ − |x|² I)` about the centre of mass, as xx, xy, xz, yy, yz, zz.
#[derive(Debug, Clone, Copy, Default)]
struct NodeMoments {
    gravitational_parameter: f64,
    quadrupole: [f64; 6],
}

/// Bodies in key order and the octree over them.
#[derive(Debug)]
pub(crate) struct Octree {
    /// `order[k]` is the index (in the caller's columns) of the k-th body in key order.
    order: Vec<u32>,
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    gm: Vec<f64>,
    geometry: Vec<NodeGeometry>,
    moments: Vec<NodeMoments>,
    /// The same moments and centres as columns, read by the node kernels by node index.
    node_columns: NodeTable,
    /// The walk's compact copy of the geometry.
    walk_nodes: Vec<WalkNode>,
    /// Each node's first body (in key order) and body count.
    node_bodies: Vec<(u32, u32)>,
    /// The bounding cube: lowest corner and side.
    cube_origin: [f64; 3],
    cube_side: f64,
    softening_squared: f64,
    /// How groups may be computed in f32, when the tree's scales allow it.
    compact: Option<CompactScale>,
    /// Each body's `G m / L²` in f32 (key order); empty without `compact`.
    compact_gm: Vec<f32>,
    /// Each node's `G M / L²` and quadrupole `/ L⁴` in f32; empty without `compact`.
    compact_moments: Vec<CompactNode>,
}

/// What the f32 lists need of a node, in one cache line: its centre of mass (f64, made
/// relative to each group) and `G M / L²`, quadrupole `/ L⁴` (xx, xy, xz, yy, yz, zz).
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct CompactNode {
    center_of_mass: [f64; 3],
    moments: [f32; 7],
}

/// The f32 fast path's units: lengths in `L`, a power of two near the softening, so that
/// scaling is exact and f32 keeps its range around the interesting distances.
#[derive(Debug, Clone, Copy)]
struct CompactScale {
    /// `1 / L`.
    inverse_length: f64,
    /// `ε² / L²` in f32 (between 1/2 and 2).
    softening_squared: f32,
}

impl Octree {
    /// Builds the tree over the sources with opening angle `opening_angle` (θ > 0).
    pub(crate) fn build(sources: &SourceColumns<'_>, opening_angle: f64, softening_squared: f64) -> Self {
        let count = sources.gm.len();
        let (cube_origin, cube_side) = bounding_cube(sources.x, sources.y, sources.z);
        let mut keyed = map_indices(count, |body| {
            (morton_key([sources.x[body], sources.y[body], sources.z[body]], cube_origin, cube_side), body as u32)
        });
        sort_keyed(&mut keyed);
        let order = map_indices(count, |position| keyed[position].1);
        let gather = |column: &[f64]| map_indices(count, |position| column[order[position] as usize]);
        let mut tree = Self {
            x: gather(sources.x),
            y: gather(sources.y),
            z: gather(sources.z),
            gm: gather(sources.gm),
            order,
            geometry: Vec::with_capacity(count / 4 + 1),
            moments: Vec::new(),
            node_columns: NodeTable::default(),
            walk_nodes: Vec::new(),
            node_bodies: Vec::new(),
            cube_origin,
            cube_side,
            softening_squared,
            compact: None,
            compact_gm: Vec::new(),
            compact_moments: Vec::new(),
        };
        if count > 0 {
            let keys = map_indices(count, |position| keyed[position].0);
            tree.build_node(&keys, 0, count, 0);
            tree.compute_moments(opening_angle);
            tree.node_columns = NodeTable::from_nodes(&tree.geometry, &tree.moments);
            let geometry = &tree.geometry;
            tree.walk_nodes = map_indices(geometry.len(), |index| {
                let node = &geometry[index];
                WalkNode {
                    center_of_mass: node.center_of_mass,
                    opening_distance_squared: round_up_to_f32(node.opening_distance * node.opening_distance),
                    next: node.next,
                }
            });
            tree.node_bodies =
                map_indices(geometry.len(), |index| (geometry[index].first_body, geometry[index].body_count));
            tree.prepare_compact();
        }
        tree
    }

    /// Decides whether groups may use the f32 kernels and precomputes their scaled masses.
    /// NOTE: f32 needs a softening (a length scale, and no coincident pair to divide by zero)
    /// and sane ranges: the cube within 2²⁴ L and the total `G M / L²` between 2⁻⁴⁰ and 2⁶⁰, so
    /// that with targets within a cube's side of the cube (see `compact_scale`) every net
    /// acceleration, `r²` and quadrupole stays well inside f32's normal range.
    fn prepare_compact(&mut self) {
        let softening = self.softening_squared.sqrt();
        if !(softening.is_finite() && softening > 0.0) {
            return;
        }
        let exponent = softening.log2().round();
        if exponent.abs() > 200.0 {
            return;
        }
        let inverse_length = 2.0_f64.powi(-(exponent as i32));
        let total_gm: f64 = self.gm.iter().map(|gm| gm.abs()).sum();
        let scaled_total = total_gm * inverse_length * inverse_length;
        let in_range = self.cube_side * inverse_length <= 2.0_f64.powi(24)
            && (scaled_total == 0.0 || (2.0_f64.powi(-40)..=2.0_f64.powi(60)).contains(&scaled_total));
        if !in_range || !scaled_total.is_finite() {
            return;
        }
        let inverse_area = inverse_length * inverse_length;
        let gm = &self.gm;
        self.compact_gm = map_indices(gm.len(), |body| (gm[body] * inverse_area) as f32);
        let inverse_quartic = inverse_area * inverse_area;
        let (moments, geometry) = (&self.moments, &self.geometry);
        self.compact_moments = map_indices(moments.len(), |index| {
            let moment = &moments[index];
            let [xx, xy, xz, yy, yz, zz] = moment.quadrupole.map(|component| (component * inverse_quartic) as f32);
            CompactNode {
                center_of_mass: geometry[index].center_of_mass,
                moments: [(moment.gravitational_parameter * inverse_area) as f32, xx, xy, xz, yy, yz, zz],
            }
        });
        self.compact =
            Some(CompactScale { inverse_length, softening_squared: (self.softening_squared * inverse_area) as f32 });
    }

    /// Appends the node for bodies `start..end` (all sharing their first `level` octant digits)
    /// and its subtree. Depth is bounded by `KEY_BITS`.
    fn build_node(&mut self, keys: &[u64], start: usize, end: usize, level: u32) {
        let index = self.geometry.len();
        self.geometry.push(NodeGeometry {
            center_of_mass: [0.0; 3],
            opening_distance: 0.0,
            first_body: start as u32,
            body_count: (end - start) as u32,
            next: 0,
            is_leaf: true,
            low: [0.0; 3],
            high: [0.0; 3],
        });
        if end - start > LEAF_SIZE && level < KEY_BITS {
            self.geometry[index].is_leaf = false;
            let shift = 3 * (KEY_BITS - 1 - level);
            let mut child_start = start;
            for octant in 0..8_u64 {
                let child_end =
                    child_start + keys[child_start..end].partition_point(|&key| (key >> shift) & 7 <= octant);
                if child_end > child_start {
                    self.build_node(keys, child_start, child_end, level + 1);
                }
                child_start = child_end;
            }
        }
        self.geometry[index].next = self.geometry.len() as u32;
    }

    /// Centres of mass, quadrupoles and opening distances, children before parents: subtrees
    /// of at most [`PARALLEL_SUBTREE_BODIES`] bodies in parallel, then their ancestors. Each
    /// node is computed by the same code from the same inputs, whatever the thread count.
    fn compute_moments(&mut self, opening_angle: f64) {
        let node_count = self.geometry.len();
        self.moments = vec![NodeMoments::default(); node_count];
        // Roots of the parallel subtrees and their ancestors, both in depth-first order.
        let (mut subtrees, mut ancestors) = (Vec::new(), Vec::new());
        let mut index = 0;
        while index < node_count {
            let node = &self.geometry[index];
            if node.is_leaf || node.body_count as usize <= PARALLEL_SUBTREE_BODIES {
                subtrees.push(index);
                index = node.next as usize;
            } else {
                ancestors.push(index);
                index += 1;
            }
        }
        let inputs = MomentInputs { x: &self.x, y: &self.y, z: &self.z, gm: &self.gm, opening_angle };
        // Disjoint slices of the node arrays, one per subtree.
        let mut pieces = Vec::with_capacity(subtrees.len());
        let (mut geometry, mut moments) = (&mut self.geometry[..], &mut self.moments[..]);
        let mut consumed = 0;
        for &root in &subtrees {
            let end = geometry[root - consumed].next as usize;
            let (_, rest_geometry) = std::mem::take(&mut geometry).split_at_mut(root - consumed);
            let (_, rest_moments) = std::mem::take(&mut moments).split_at_mut(root - consumed);
            let (piece_geometry, rest_geometry) = rest_geometry.split_at_mut(end - root);
            let (piece_moments, rest_moments) = rest_moments.split_at_mut(end - root);
            pieces.push((root, piece_geometry, piece_moments));
            (geometry, moments, consumed) = (rest_geometry, rest_moments, end);
        }
        let run = |(base, geometry, moments): (usize, &mut [NodeGeometry], &mut [NodeMoments])| {
            for local in (0..geometry.len()).rev() {
                let summary = inputs.node(base, geometry, moments, local);
                summary.store(&mut geometry[local], &mut moments[local]);
            }
        };
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            pieces.into_par_iter().for_each(run);
        }
        #[cfg(not(feature = "parallel"))]
        pieces.into_iter().for_each(run);
        for &index in ancestors.iter().rev() {
            let summary = inputs.node(0, &self.geometry, &self.moments, index);
            summary.store(&mut self.geometry[index], &mut self.moments[index]);
        }
    }

    /// Consecutive runs of [`CLUSTER_SIZE`] targets in key order (each cut into groups of
    /// [`GROUP_SIZE`]): spatially compact (Morton order) and always full, unlike leaves, which
    /// an 8-way split leaves ~5 bodies each.
    fn groups(count: usize) -> Vec<(usize, usize)> {
        (0..count).step_by(CLUSTER_SIZE).map(|start| (start, (start + CLUSTER_SIZE).min(count))).collect()
    }

    /// Accelerations of the tree's own bodies, written to `output` in the caller's order.
    pub(crate) fn self_accelerations(&self, path: KernelPath, output: AccelerationColumns<'_>) {
        let count = self.gm.len();
        let mut sorted = [vec![0.0; count], vec![0.0; count], vec![0.0; count]];
        let targets = TargetColumns { x: &self.x, y: &self.y, z: &self.z };
        self.evaluate(path, &targets, &Self::groups(count), &mut sorted);
        scatter(&self.order, &sorted, output);
    }

    /// Accelerations at arbitrary points (ships), grouped by their own Morton keys in the
    /// tree's cube, written to `output` in the caller's order. Proximity is not touched.
    pub(crate) fn accelerations_at(
        &self,
        path: KernelPath,
        targets: &TargetColumns<'_>,
        output: AccelerationColumns<'_>,
    ) {
        let count = targets.x.len();
        let mut keyed: Vec<(u64, u32)> = (0..count)
            .map(|point| {
                let position = [targets.x[point], targets.y[point], targets.z[point]];
                (morton_key(position, self.cube_origin, self.cube_side), point as u32)
            })
            .collect();
        sort_keyed(&mut keyed);
        let order: Vec<u32> = keyed.iter().map(|&(_, point)| point).collect();
        let gather = |column: &[f64]| order.iter().map(|&point| column[point as usize]).collect::<Vec<f64>>();
        let (x, y, z) = (gather(targets.x), gather(targets.y), gather(targets.z));
        let groups = Self::groups(count);
        let mut sorted = [vec![0.0; count], vec![0.0; count], vec![0.0; count]];
        self.evaluate(path, &TargetColumns { x: &x, y: &y, z: &z }, &groups, &mut sorted);
        scatter(&order, &sorted, output);
    }

    /// Evaluates every cluster (contiguous target ranges) into `output` (same order as targets).
    fn evaluate(
        &self,
        path: KernelPath,
        targets: &TargetColumns<'_>,
        groups: &[(usize, usize)],
        output: &mut [Vec<f64>; 3],
    ) {
        if self.gm.is_empty() {
            return;
        }
        // Split the output into one disjoint piece per group, in order.
        let [output_x, output_y, output_z] = output;
        let mut pieces = Vec::with_capacity(groups.len());
        let (mut rest_x, mut rest_y, mut rest_z) = (&mut output_x[..], &mut output_y[..], &mut output_z[..]);
        let mut consumed = 0;
        for &(start, end) in groups {
            let (_, tail_x) = std::mem::take(&mut rest_x).split_at_mut(start - consumed);
            let (_, tail_y) = std::mem::take(&mut rest_y).split_at_mut(start - consumed);
            let (_, tail_z) = std::mem::take(&mut rest_z).split_at_mut(start - consumed);
            let (piece_x, tail_x) = tail_x.split_at_mut(end - start);
            let (piece_y, tail_y) = tail_y.split_at_mut(end - start);
            let (piece_z, tail_z) = tail_z.split_at_mut(end - start);
            pieces.push(((start, end), piece_x, piece_y, piece_z));
            (rest_x, rest_y, rest_z) = (tail_x, tail_y, tail_z);
            consumed = end;
        }
        let run = |scratch: &mut Scratch, ((start, end), x, y, z): GroupPiece<'_>| {
            let group_targets =
                TargetColumns { x: &targets.x[start..end], y: &targets.y[start..end], z: &targets.z[start..end] };
            self.evaluate_cluster(path, &group_targets, scratch, [x, y, z]);
        };
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            // Clusters are independent; each worker reuses its lists.
            pieces.into_par_iter().for_each_init(Scratch::default, run);
            return;
        }
        #[allow(unreachable_code)]
        {
            let mut scratch = Scratch::default();
            pieces.into_iter().for_each(|piece| run(&mut scratch, piece));
        }
    }

    /// One cluster: a shared walk with the cluster's bounding box sorts nodes into those every
    /// group of the cluster accepts, those every group opens (walked through) and candidates,
    /// whose subtrees each group walks itself. PERF: the groups then skip the far tree, and the
    /// shared lists are converted once. Each group's lists are exactly what a walk of its own
    /// from the root would give (in another order).
    fn evaluate_cluster(
        &self,
        path: KernelPath,
        targets: &TargetColumns<'_>,
        scratch: &mut Scratch,
        output: [&mut [f64]; 3],
    ) {
        let (low, high) = bounding_box(targets);
        scratch.shared_ranges.clear();
        scratch.shared_nodes.clear();
        scratch.candidates.clear();
        let mut index = 0;
        while index < self.walk_nodes.len() {
            let node = &self.walk_nodes[index];
            let next = node.next as usize;
            let opening_squared = f64::from(node.opening_distance_squared);
            let is_leaf = next == index + 1;
            if distance_to_box_squared(node.center_of_mass, low, high) > opening_squared {
                self.push_accepted(index, &mut scratch.shared_ranges, &mut scratch.shared_nodes);
                index = next;
            } else if farthest_in_box_squared(node.center_of_mass, low, high) <= opening_squared {
                // Every point of the cluster's box is too close: every group opens it.
                if is_leaf {
                    push_range(&mut scratch.shared_ranges, self.node_bodies[index]);
                }
                index += 1;
            } else if is_leaf && self.node_bodies[index].1 as usize <= SMALL_NODE_BODIES {
                // Direct whether a group accepts or opens it.
                push_range(&mut scratch.shared_ranges, self.node_bodies[index]);
                index = next;
            } else {
                scratch.candidates.push(index as u32);
                index = next;
            }
        }
        let [x, y, z] = output;
        let compact = self.compact_scale(path, low, high);
        let center = [0, 1, 2].map(|axis| 0.5 * (low[axis] + high[axis]));
        if let Some(scale) = compact {
            self.fill_compact(
                path,
                &scratch.shared_ranges,
                &scratch.shared_nodes,
                center,
                scale,
                &mut scratch.shared_compact,
            );
        }
        let cluster_fits = self.fits_compact(low, high).is_some();
        let mut end = 0;
        while end < targets.x.len() {
            let start = end;
            end = self.group_end(targets, start, cluster_fits);
            let group =
                TargetColumns { x: &targets.x[start..end], y: &targets.y[start..end], z: &targets.z[start..end] };
            let (group_low, group_high) = bounding_box(&group);
            scratch.ranges.clear();
            scratch.nodes.clear();
            for &root in &scratch.candidates {
                let root = root as usize;
                self.walk(
                    root,
                    self.walk_nodes[root].next as usize,
                    group_low,
                    group_high,
                    &mut scratch.ranges,
                    &mut scratch.nodes,
                );
            }
            let output = [&mut x[start..end], &mut y[start..end], &mut z[start..end]];
            if let Some(scale) = compact {
                self.fill_compact(path, &scratch.ranges, &scratch.nodes, center, scale, &mut scratch.compact);
                self.evaluate_group_compact(path, scale, &group, center, scratch, output);
            } else if let Some(scale) = self.compact_scale(path, group_low, group_high) {
                // A cluster too spread out for f32 can still hold compact groups (in a halo,
                // say): the shared lists are then converted for each group, around its centre.
                let center = [0, 1, 2].map(|axis| 0.5 * (group_low[axis] + group_high[axis]));
                self.fill_compact(
                    path,
                    &scratch.shared_ranges,
                    &scratch.shared_nodes,
                    center,
                    scale,
                    &mut scratch.shared_compact,
                );
                self.fill_compact(path, &scratch.ranges, &scratch.nodes, center, scale, &mut scratch.compact);
                self.evaluate_group_compact(path, scale, &group, center, scratch, output);
            } else {
                self.evaluate_group_f64(path, &group, scratch, output);
            }
        }
    }

    /// Where the group that starts at `start` ends: after [`GROUP_SIZE`] targets, or, in a
    /// cluster too spread out for f32 (a sparse halo), before the target that would make the
    /// group too spread out too. PERF: such groups then run in f32, on shorter lists, instead
    /// of in f64. Decided by geometry alone, so every kernel path gets the same lists.
    fn group_end(&self, targets: &TargetColumns<'_>, start: usize, cluster_fits: bool) -> usize {
        let limit = (start + GROUP_SIZE).min(targets.x.len());
        let point = |target: usize| [targets.x[target], targets.y[target], targets.z[target]];
        let (mut low, mut high) = (point(start), point(start));
        if cluster_fits || self.fits_compact(low, high).is_none() {
            return limit;
        }
        for end in start + 1..limit {
            let next = point(end);
            let grown_low = [0, 1, 2].map(|axis| low[axis].min(next[axis]));
            let grown_high = [0, 1, 2].map(|axis| high[axis].max(next[axis]));
            if self.fits_compact(grown_low, grown_high).is_none() {
                return end;
            }
            (low, high) = (grown_low, grown_high);
        }
        limit
    }

    /// A stackless walk of nodes `start..end` (whole subtrees) for a group's bounding box.
    fn walk(
        &self,
        start: usize,
        end: usize,
        low: [f64; 3],
        high: [f64; 3],
        ranges: &mut Vec<(u32, u32)>,
        nodes: &mut Vec<u32>,
    ) {
        let mut index = start;
        while index < end {
            let node = &self.walk_nodes[index];
            let next = node.next as usize;
            if distance_to_box_squared(node.center_of_mass, low, high) > f64::from(node.opening_distance_squared) {
                self.push_accepted(index, ranges, nodes);
                index = next;
            } else if next == index + 1 {
                push_range(ranges, self.node_bodies[index]);
                index = next;
            } else {
                index += 1;
            }
        }
    }

    /// An accepted node: a multipole interaction, or, when it holds so few bodies that they cost
    /// less (and are exact) as direct interactions, its bodies.
    fn push_accepted(&self, index: usize, ranges: &mut Vec<(u32, u32)>, nodes: &mut Vec<u32>) {
        if self.node_bodies[index].1 as usize > SMALL_NODE_BODIES {
            nodes.push(index as u32);
        } else {
            push_range(ranges, self.node_bodies[index]);
        }
    }

    /// The f64 kernels on the cluster's shared lists and the group's own.
    fn evaluate_group_f64(
        &self,
        path: KernelPath,
        targets: &TargetColumns<'_>,
        scratch: &mut Scratch,
        output: [&mut [f64]; 3],
    ) {
        let direct = &mut scratch.direct;
        direct.clear();
        for &(first, end) in scratch.shared_ranges.iter().chain(&scratch.ranges) {
            let bodies = first as usize..end as usize;
            direct.extend(&self.x[bodies.clone()], &self.y[bodies.clone()], &self.z[bodies.clone()], &self.gm[bodies]);
        }
        let sources =
            SourceColumns { x: &direct.x, y: &direct.y, z: &direct.z, gm: &direct.gm, collision_threshold: &[] };
        let [x, y, z] = output;
        chunk_accelerations::<false>(
            path,
            &sources,
            targets,
            self.softening_squared,
            ChunkOutput { x, y, z, proximity: None },
        );
        scratch.all_nodes.clear();
        scratch.all_nodes.extend_from_slice(&scratch.shared_nodes);
        scratch.all_nodes.extend_from_slice(&scratch.nodes);
        add_node_accelerations(path, &self.node_columns, &scratch.all_nodes, targets, self.softening_squared, x, y, z);
    }

    /// The f32 units for a group with bounding box `low..high`, when the path has f32 kernels
    /// and f32 is accurate enough for the group: positions relative to the group's centre
    /// round to ~2⁻²⁴ of (group half-size + distance), which relative to a pair's distance
    /// (at least ~ε) stays below ~2⁻¹⁵ while the half-size is within 2⁸ L (L ≈ ε).
    fn compact_scale(&self, path: KernelPath, low: [f64; 3], high: [f64; 3]) -> Option<CompactScale> {
        if !matches!(path, KernelPath::Avx2Fma | KernelPath::Avx512) {
            return None;
        }
        self.fits_compact(low, high)
    }

    /// The geometric half of [`Self::compact_scale`], the same whatever the kernel path.
    fn fits_compact(&self, low: [f64; 3], high: [f64; 3]) -> Option<CompactScale> {
        let scale = self.compact?;
        let half_size = (0..3).map(|axis| high[axis] - low[axis]).fold(0.0, f64::max) * 0.5;
        // Ships far outside the bodies' cube feel pulls too weak for f32's range.
        let near_cube = (0..3).all(|axis| {
            low[axis] >= self.cube_origin[axis] - self.cube_side
                && high[axis] <= self.cube_origin[axis] + 2.0 * self.cube_side
        });
        (near_cube && half_size * scale.inverse_length <= 256.0).then_some(scale)
    }

    /// Fills f32 lists (positions relative to `center`, in units of L) from body ranges and
    /// node indices.
    fn fill_compact(
        &self,
        path: KernelPath,
        ranges: &[(u32, u32)],
        nodes: &[u32],
        center: [f64; 3],
        scale: CompactScale,
        lists: &mut CompactLists,
    ) {
        let inverse_length = scale.inverse_length;
        let relative = |value: f64, axis: usize| ((value - center[axis]) * inverse_length) as f32;
        self.fill_compact_direct(path, ranges, center, inverse_length, &mut lists.direct);
        lists.nodes.clear();
        lists.nodes.extend(nodes.iter().map(|&node| {
            let node = node as usize;
            let CompactNode { center_of_mass: [x, y, z], moments: [gm, xx, xy, xz, yy, yz, zz] } =
                self.compact_moments[node];
            [relative(x, 0), relative(y, 1), relative(z, 2), gm, xx, xy, xz, yy, yz, zz]
        }));
    }

    /// The direct part of [`Self::fill_compact`]: the bodies of `ranges` as f32 columns.
    fn fill_compact_direct(
        &self,
        path: KernelPath,
        ranges: &[(u32, u32)],
        center: [f64; 3],
        inverse_length: f64,
        direct: &mut CompactSources,
    ) {
        direct.x.clear();
        direct.y.clear();
        direct.z.clear();
        direct.gm.clear();
        #[cfg(target_arch = "x86_64")]
        if path == KernelPath::Avx512 {
            let columns = [self.x.as_slice(), &self.y, &self.z];
            // SAFETY: the AVX-512 path is only selected on CPUs that support AVX-512F; the
            // ranges are the tree's own body ranges.
            unsafe {
                super::x86::extend_relative_ranges_avx512(
                    direct,
                    ranges,
                    columns,
                    &self.compact_gm,
                    center,
                    inverse_length,
                );
            }
            return;
        }
        let _ = path;
        for &(first, end) in ranges {
            let bodies = first as usize..end as usize;
            for (output, column, axis) in
                [(&mut direct.x, &self.x, 0), (&mut direct.y, &self.y, 1), (&mut direct.z, &self.z, 2)]
            {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: f32 lists are only built for the AVX2 and AVX-512 paths (see
                // `compact_scale`), selected only on CPUs with AVX2 and FMA.
                unsafe {
                    super::x86::extend_relative(output, &column[bodies.clone()], center[axis], inverse_length);
                }
                #[cfg(not(target_arch = "x86_64"))]
                output.extend(
                    column[bodies.clone()].iter().map(|&value| ((value - center[axis]) * inverse_length) as f32),
                );
            }
            direct.gm.extend_from_slice(&self.compact_gm[bodies]);
        }
    }

    /// Runs the f32 kernel on the cluster's shared lists and the group's own (both filled
    /// relative to `center`); writes (not adds) the accelerations.
    fn evaluate_group_compact(
        &self,
        path: KernelPath,
        scale: CompactScale,
        targets: &TargetColumns<'_>,
        center: [f64; 3],
        scratch: &Scratch,
        output: [&mut [f64]; 3],
    ) {
        let relative = |value: f64, axis: usize| ((value - center[axis]) * scale.inverse_length) as f32;
        let [x, y, z] = output;
        for first in (0..targets.x.len()).step_by(COMPACT_TARGETS) {
            let chunk = first..(first + COMPACT_TARGETS).min(targets.x.len());
            let lanes = chunk.len();
            // Padded lanes repeat the last target; their results are dropped.
            let pad = |column: &[f64], axis: usize| {
                let column = &column[chunk.clone()];
                let mut padded = [relative(column[lanes - 1], axis); COMPACT_TARGETS];
                for (lane, &value) in column.iter().enumerate() {
                    padded[lane] = relative(value, axis);
                }
                padded
            };
            let padded = [pad(targets.x, 0), pad(targets.y, 1), pad(targets.z, 2)];
            let shared = compact_group(path, &scratch.shared_compact, &padded, lanes, scale.softening_squared);
            let own = compact_group(path, &scratch.compact, &padded, lanes, scale.softening_squared);
            let output = [&mut x[chunk.clone()], &mut y[chunk.clone()], &mut z[chunk.clone()]];
            for ((column, shared), own) in output.into_iter().zip(&shared).zip(&own) {
                for ((value, shared), own) in column.iter_mut().zip(shared).zip(own) {
                    *value = shared + own;
                }
            }
        }
    }
}

/// Runs the f32 group kernel of `path` (only the x86 SIMD paths have one).
fn compact_group(
    path: KernelPath,
    lists: &CompactLists,
    targets: &[[f32; COMPACT_TARGETS]; 3],
    lanes: usize,
    softening_squared: f32,
) -> [[f64; COMPACT_TARGETS]; 3] {
    match path {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the AVX-512 path is only selected on CPUs that support AVX-512F.
        KernelPath::Avx512 => unsafe { super::x86::compact_group_avx512(lists, targets, softening_squared) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the AVX2 path is only selected on CPUs that support AVX2 and FMA.
        KernelPath::Avx2Fma => unsafe { super::x86::compact_group_avx2(lists, targets, lanes, softening_squared) },
        _ => unreachable!("only the x86 SIMD paths have f32 group kernels"),
    }
}

/// One group's interaction lists in f32, relative to the group's centre in units of L:
/// direct sources as columns, accepted nodes as records (centre, `G M`, quadrupole).
#[derive(Debug, Default)]
pub(super) struct CompactLists {
    pub direct: CompactSources,
    pub nodes: Vec<[f32; 10]>,
}

#[derive(Debug, Default)]
pub(super) struct CompactSources {
    pub x: Vec<f32>,
    pub y: Vec<f32>,
    pub z: Vec<f32>,
    pub gm: Vec<f32>,
}

/// The smallest f32 not below `value` (f64 → f32 rounds to nearest, which could round down).
fn round_up_to_f32(value: f64) -> f32 {
    let rounded = value as f32;
    if f64::from(rounded) >= value { rounded } else { rounded.next_up() }
}

fn scatter(order: &[u32], sorted: &[Vec<f64>; 3], output: AccelerationColumns<'_>) {
    for (position, &original) in order.iter().enumerate() {
        let original = original as usize;
        output.x[original] = sorted[0][position];
        output.y[original] = sorted[1][position];
        output.z[original] = sorted[2][position];
    }
}

/// Sorts by key, ties by index: a total order, so the result is the same whatever the threads.
fn sort_keyed(keyed: &mut [(u64, u32)]) {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        keyed.par_sort_unstable();
        return;
    }
    #[allow(unreachable_code)]
    keyed.sort_unstable();
}

/// What a node's moments are computed from.
struct MomentInputs<'a> {
    x: &'a [f64],
    y: &'a [f64],
    z: &'a [f64],
    gm: &'a [f64],
    opening_angle: f64,
}

impl MomentInputs<'_> {
    /// Centre of mass, opening distance, moments and tight box of node `base + local`, where
    /// `geometry` and `moments` hold nodes from `base` on, its children's already computed.
    fn node(&self, base: usize, geometry: &[NodeGeometry], moments: &[NodeMoments], local: usize) -> NodeSummary {
        let node = geometry[local];
        let (mut low, mut high) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
        let (mass, center_of_mass, quadrupole) = if node.is_leaf {
            let bodies = node.first_body as usize..(node.first_body + node.body_count) as usize;
            for body in bodies.clone() {
                for (axis, column) in [self.x, self.y, self.z].into_iter().enumerate() {
                    low[axis] = low[axis].min(column[body]);
                    high[axis] = high[axis].max(column[body]);
                }
            }
            combine(bodies.map(|body| (self.gm[body], [self.x[body], self.y[body], self.z[body]], [0.0; 6])))
        } else {
            let mut children = [(0.0, [0.0; 3], [0.0; 6]); 8];
            let mut child_count = 0;
            let mut child = local + 1;
            while child < node.next as usize - base {
                let child_node = &geometry[child];
                for axis in 0..3 {
                    low[axis] = low[axis].min(child_node.low[axis]);
                    high[axis] = high[axis].max(child_node.high[axis]);
                }
                children[child_count] =
                    (moments[child].gravitational_parameter, child_node.center_of_mass, moments[child].quadrupole);
                child_count += 1;
                child = child_node.next as usize - base;
            }
            combine(children[..child_count].iter().copied())
        };
        let side = (0..3).map(|axis| high[axis] - low[axis]).fold(0.0, f64::max);
        let box_center = [0, 1, 2].map(|axis| 0.5 * (low[axis] + high[axis]));
        let offset = distance(center_of_mass, box_center);
        NodeSummary {
            center_of_mass,
            opening_distance: side / self.opening_angle + offset,
            moments: NodeMoments { gravitational_parameter: mass, quadrupole },
            low,
            high,
        }
    }
}

/// What [`MomentInputs::node`] computes of a node.
struct NodeSummary {
    center_of_mass: [f64; 3],
    opening_distance: f64,
    moments: NodeMoments,
    low: [f64; 3],
    high: [f64; 3],
}

impl NodeSummary {
    fn store(self, geometry: &mut NodeGeometry, moments: &mut NodeMoments) {
        geometry.center_of_mass = self.center_of_mass;
        geometry.opening_distance = self.opening_distance;
        geometry.low = self.low;
        geometry.high = self.high;
        *moments = self.moments;
    }
}

/// `function` of each index in `0..count`, in order; in parallel with the `parallel` feature
/// (each element computed alone, so the result does not depend on the threads).
fn map_indices<T: Send>(count: usize, function: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..count).into_par_iter().with_min_len(PARALLEL_MIN_ELEMENTS).map(function).collect()
    }
    #[cfg(not(feature = "parallel"))]
    (0..count).map(function).collect()
}

/// Mass, centre of mass and quadrupole (about that centre) of point masses or sub-nodes.
fn combine(parts: impl Iterator<Item = (f64, [f64; 3], [f64; 6])> + Clone) -> (f64, [f64; 3], [f64; 6]) {
    let mut mass = 0.0;
    let mut weighted = [0.0; 3];
    let mut plain = [0.0; 3];
    let mut count: f64 = 0.0;
    for (part_mass, position, _) in parts.clone() {
        mass += part_mass;
        count += 1.0;
        for axis in 0..3 {
            weighted[axis] += part_mass * position[axis];
            plain[axis] += position[axis];
        }
    }
    // Massless groups still need a finite centre (their geometric mean) for the walk.
    let center =
        if mass > 0.0 { weighted.map(|value| value / mass) } else { plain.map(|value| value / count.max(1.0)) };
    let mut quadrupole = [0.0; 6];
    for (part_mass, position, part_quadrupole) in parts {
        let d = [position[0] - center[0], position[1] - center[1], position[2] - center[2]];
        let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        let shifted = [
            3.0 * d[0] * d[0] - r2,
            3.0 * d[0] * d[1],
            3.0 * d[0] * d[2],
            3.0 * d[1] * d[1] - r2,
            3.0 * d[1] * d[2],
            3.0 * d[2] * d[2] - r2,
        ];
        for component in 0..6 {
            quadrupole[component] += part_quadrupole[component] + part_mass * shifted[component];
        }
    }
    (mass, center, quadrupole)
}

fn bounding_cube(x: &[f64], y: &[f64], z: &[f64]) -> ([f64; 3], f64) {
    let range = |column: &[f64]| {
        column.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), &value| (low.min(value), high.max(value)))
    };
    let ranges = [range(x), range(y), range(z)];
    if x.is_empty() {
        return ([0.0; 3], 1.0);
    }
    let side = ranges.iter().map(|(low, high)| high - low).fold(0.0, f64::max);
    // A little margin keeps the highest body strictly inside; coincident bodies get a unit cube.
    let side = if side > 0.0 { side * (1.0 + 1e-9) } else { 1.0 };
    ([ranges[0].0, ranges[1].0, ranges[2].0], side)
}

fn morton_key(position: [f64; 3], origin: [f64; 3], side: f64) -> u64 {
    let cells = f64::from(1_u32 << KEY_BITS);
    let mut key = 0;
    for axis in 0..3 {
        // Clamped: ships outside the bodies' cube go to its nearest cell (grouping only).
        let cell = ((position[axis] - origin[axis]) / side * cells).clamp(0.0, cells - 1.0) as u64;
        key |= spread_bits(cell) << (2 - axis);
    }
    key
}

/// Puts bit k of `value` at bit 3k.
fn spread_bits(value: u64) -> u64 {
    let mut value = value & 0x1f_ffff;
    value = (value | (value << 32)) & 0x1f_0000_0000_ffff;
    value = (value | (value << 16)) & 0x1f_0000_ff00_00ff;
    value = (value | (value << 8)) & 0x100f_00f0_0f00_f00f;
    value = (value | (value << 4)) & 0x10c3_0c30_c30c_30c3;
    value = (value | (value << 2)) & 0x1249_2492_4924_9249;
    value
}

fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

fn bounding_box(targets: &TargetColumns<'_>) -> ([f64; 3], [f64; 3]) {
    let mut low = [f64::INFINITY; 3];
    let mut high = [f64::NEG_INFINITY; 3];
    for point in 0..targets.x.len() {
        for (axis, column) in [targets.x, targets.y, targets.z].into_iter().enumerate() {
            low[axis] = low[axis].min(column[point]);
            high[axis] = high[axis].max(column[point]);
        }
    }
    (low, high)
}

/// Squared distance from `point` to the farthest point of the box.
fn farthest_in_box_squared(point: [f64; 3], low: [f64; 3], high: [f64; 3]) -> f64 {
    let mut sum = 0.0;
    for axis in 0..3 {
        let reach = (point[axis] - low[axis]).abs().max((high[axis] - point[axis]).abs());
        sum += reach * reach;
    }
    sum
}

/// Appends a node's body range, merged with the previous one when they are consecutive.
fn push_range(ranges: &mut Vec<(u32, u32)>, (first, count): (u32, u32)) {
    match ranges.last_mut() {
        // PERF: consecutive leaves are consecutive bodies: one longer copy.
        Some((_, end)) if *end == first => *end = first + count,
        _ => ranges.push((first, first + count)),
    }
}

fn distance_to_box_squared(point: [f64; 3], low: [f64; 3], high: [f64; 3]) -> f64 {
    let mut sum = 0.0;
    for axis in 0..3 {
        let gap = (low[axis] - point[axis]).max(point[axis] - high[axis]).max(0.0);
        sum += gap * gap;
    }
    sum
}

/// One group's target range and its pieces of the output columns.
type GroupPiece<'a> = ((usize, usize), &'a mut [f64], &'a mut [f64], &'a mut [f64]);

/// One worker's interaction lists, reused from group to group.
#[derive(Debug, Default)]
struct Scratch {
    /// The cluster's shared direct body ranges (key order) and accepted nodes.
    shared_ranges: Vec<(u32, u32)>,
    shared_nodes: Vec<u32>,
    /// Roots of the subtrees each group walks itself.
    candidates: Vec<u32>,
    shared_compact: CompactLists,
    /// One group's own body ranges (opened leaves and small accepted nodes) and accepted nodes.
    ranges: Vec<(u32, u32)>,
    nodes: Vec<u32>,
    compact: CompactLists,
    direct: GatheredSources,
    all_nodes: Vec<u32>,
}

#[derive(Debug, Default)]
struct GatheredSources {
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    gm: Vec<f64>,
}

impl GatheredSources {
    fn clear(&mut self) {
        self.x.clear();
        self.y.clear();
        self.z.clear();
        self.gm.clear();
    }

    fn extend(&mut self, x: &[f64], y: &[f64], z: &[f64], gm: &[f64]) {
        self.x.extend_from_slice(x);
        self.y.extend_from_slice(y);
        self.z.extend_from_slice(z);
        self.gm.extend_from_slice(gm);
    }
}

/// Every node's centre of mass and moments as columns (G included).
#[derive(Debug, Default)]
struct NodeTable {
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    gm: Vec<f64>,
    quadrupole: [Vec<f64>; 6],
    /// The same per node as one record (centre, G M, quadrupole): a walk's accepted nodes are
    /// read one record (80 bytes) each, not from ten scattered columns.
    records: Vec<NodeRecord>,
}

/// One node's centre of mass, `G M` and quadrupole (xx, xy, xz, yy, yz, zz), contiguous.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(16))]
struct NodeRecord([f64; 10]);

impl NodeTable {
    fn from_nodes(geometry: &[NodeGeometry], moments: &[NodeMoments]) -> Self {
        let count = geometry.len();
        Self {
            x: map_indices(count, |node| geometry[node].center_of_mass[0]),
            y: map_indices(count, |node| geometry[node].center_of_mass[1]),
            z: map_indices(count, |node| geometry[node].center_of_mass[2]),
            gm: map_indices(count, |node| moments[node].gravitational_parameter),
            quadrupole: [0, 1, 2, 3, 4, 5]
                .map(|component| map_indices(count, |node| moments[node].quadrupole[component])),
            records: map_indices(count, |node| {
                let [x, y, z] = geometry[node].center_of_mass;
                let [xx, xy, xz, yy, yz, zz] = moments[node].quadrupole;
                NodeRecord([x, y, z, moments[node].gravitational_parameter, xx, xy, xz, yy, yz, zz])
            }),
        }
    }

    fn view(&self) -> NodeColumns<'_> {
        NodeColumns {
            x: &self.x,
            y: &self.y,
            z: &self.z,
            gm: &self.gm,
            quadrupole: [0, 1, 2, 3, 4, 5].map(|component| self.quadrupole[component].as_slice()),
        }
    }
}

/// Adds the monopole + quadrupole pull of the accepted nodes to the targets' accelerations.
#[allow(clippy::too_many_arguments)]
fn add_node_accelerations(
    path: KernelPath,
    table: &NodeTable,
    nodes: &[u32],
    targets: &TargetColumns<'_>,
    softening_squared: f64,
    x: &mut [f64],
    y: &mut [f64],
    z: &mut [f64],
) {
    #[cfg(target_arch = "x86_64")]
    if path == KernelPath::Avx512 {
        for start in (0..targets.x.len()).step_by(BLOCK) {
            let end = (start + BLOCK).min(targets.x.len());
            // SAFETY: the AVX-512 path is only selected on CPUs that support it.
            unsafe {
                super::x86::add_node_accelerations_avx512(
                    table.view(),
                    nodes,
                    [&targets.x[start..end], &targets.y[start..end], &targets.z[start..end]],
                    softening_squared,
                    [&mut x[start..end], &mut y[start..end], &mut z[start..end]],
                );
            }
        }
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if path == KernelPath::Avx2Fma {
        for start in (0..targets.x.len()).step_by(BLOCK) {
            let end = (start + BLOCK).min(targets.x.len());
            // SAFETY: the AVX2 path is only selected on CPUs that support AVX2 and FMA.
            unsafe {
                add_node_accelerations_avx2(
                    &table.records,
                    nodes,
                    [&targets.x[start..end], &targets.y[start..end], &targets.z[start..end]],
                    softening_squared,
                    [&mut x[start..end], &mut y[start..end], &mut z[start..end]],
                );
            }
        }
        return;
    }
    let _ = path;
    for target in 0..targets.x.len() {
        let position = [targets.x[target], targets.y[target], targets.z[target]];
        let mut sum = [0.0; 3];
        for &node in nodes {
            let node = node as usize;
            let quadrupole = [0, 1, 2, 3, 4, 5].map(|component| table.quadrupole[component][node]);
            let pull = node_acceleration(
                position,
                [table.x[node], table.y[node], table.z[node]],
                table.gm[node],
                quadrupole,
                softening_squared,
            );
            for axis in 0..3 {
                sum[axis] += pull[axis];
            }
        }
        x[target] += sum[0];
        y[target] += sum[1];
        z[target] += sum[2];
    }
}

/// Every node's columns as plain slices (what the SIMD node kernel reads, by node index).
#[derive(Debug, Clone, Copy)]
pub(super) struct NodeColumns<'a> {
    pub x: &'a [f64],
    pub y: &'a [f64],
    pub z: &'a [f64],
    pub gm: &'a [f64],
    pub quadrupole: [&'a [f64]; 6],
}

/// Reference monopole + quadrupole acceleration at `position` from a node:
/// `a = −GM d/r³ + Q d/r⁵ − 5/2 (dᵀ Q d) d/r⁷`, with `d` from the node's centre of mass to the
/// target and `r² = |d|² + ε²`.
pub(super) fn node_acceleration(
    position: [f64; 3],
    center: [f64; 3],
    gm: f64,
    quadrupole: [f64; 6],
    softening_squared: f64,
) -> [f64; 3] {
    let d = [position[0] - center[0], position[1] - center[1], position[2] - center[2]];
    let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] + softening_squared;
    let inverse_r2 = 1.0 / r2;
    let inverse_r = inverse_r2.sqrt();
    let inverse_r3 = inverse_r * inverse_r2;
    let inverse_r5 = inverse_r3 * inverse_r2;
    let inverse_r7 = inverse_r5 * inverse_r2;
    let [xx, xy, xz, yy, yz, zz] = quadrupole;
    let q_d = [xx * d[0] + xy * d[1] + xz * d[2], xy * d[0] + yy * d[1] + yz * d[2], xz * d[0] + yz * d[1] + zz * d[2]];
    let d_q_d = d[0] * q_d[0] + d[1] * q_d[1] + d[2] * q_d[2];
    let radial = -gm * inverse_r3 - 2.5 * d_q_d * inverse_r7;
    [0, 1, 2].map(|axis| radial * d[axis] + q_d[axis] * inverse_r5)
}

/// Monopole + quadrupole pull of the listed nodes on up to [`BLOCK`] targets, added into
/// `output`: AVX2 + FMA, four lanes, exact `sqrt` and divide (see [`node_acceleration`]).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn add_node_accelerations_avx2(
    records: &[NodeRecord],
    nodes: &[u32],
    targets: [&[f64]; 3],
    softening_squared: f64,
    output: [&mut [f64]; 3],
) {
    use core::arch::x86_64::*;
    const LANES: usize = 4;
    const VECTORS: usize = BLOCK / LANES;
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
    // SAFETY: each load reads LANES elements at vector * LANES < BLOCK.
    let load = |column: &[f64; BLOCK], vector: usize| unsafe { _mm256_loadu_pd(column.as_ptr().add(vector * LANES)) };
    let target_x: [__m256d; VECTORS] = std::array::from_fn(|vector| load(&padded[0], vector));
    let target_y: [__m256d; VECTORS] = std::array::from_fn(|vector| load(&padded[1], vector));
    let target_z: [__m256d; VECTORS] = std::array::from_fn(|vector| load(&padded[2], vector));
    let mut sum_x = [_mm256_setzero_pd(); VECTORS];
    let mut sum_y = [_mm256_setzero_pd(); VECTORS];
    let mut sum_z = [_mm256_setzero_pd(); VECTORS];
    let softening_squared = _mm256_set1_pd(softening_squared);
    let one = _mm256_set1_pd(1.0);
    let minus_five_halves = _mm256_set1_pd(-2.5);
    for &node in nodes {
        let record = &records[node as usize].0;
        let center_x = _mm256_set1_pd(record[0]);
        let center_y = _mm256_set1_pd(record[1]);
        let center_z = _mm256_set1_pd(record[2]);
        let minus_gm = _mm256_set1_pd(-record[3]);
        let [xx, xy, xz, yy, yz, zz] = [4, 5, 6, 7, 8, 9].map(|component| _mm256_set1_pd(record[component]));
        for vector in 0..VECTORS {
            let dx = _mm256_sub_pd(target_x[vector], center_x);
            let dy = _mm256_sub_pd(target_y[vector], center_y);
            let dz = _mm256_sub_pd(target_z[vector], center_z);
            let r2 = _mm256_fmadd_pd(dx, dx, _mm256_fmadd_pd(dy, dy, _mm256_fmadd_pd(dz, dz, softening_squared)));
            let inverse_r = _mm256_div_pd(one, _mm256_sqrt_pd(r2));
            let inverse_r2 = _mm256_mul_pd(inverse_r, inverse_r);
            let inverse_r3 = _mm256_mul_pd(inverse_r, inverse_r2);
            let inverse_r5 = _mm256_mul_pd(inverse_r3, inverse_r2);
            let inverse_r7 = _mm256_mul_pd(inverse_r5, inverse_r2);
            let q_dx = _mm256_fmadd_pd(xx, dx, _mm256_fmadd_pd(xy, dy, _mm256_mul_pd(xz, dz)));
            let q_dy = _mm256_fmadd_pd(xy, dx, _mm256_fmadd_pd(yy, dy, _mm256_mul_pd(yz, dz)));
            let q_dz = _mm256_fmadd_pd(xz, dx, _mm256_fmadd_pd(yz, dy, _mm256_mul_pd(zz, dz)));
            let d_q_d = _mm256_fmadd_pd(dx, q_dx, _mm256_fmadd_pd(dy, q_dy, _mm256_mul_pd(dz, q_dz)));
            // −GM/r³ − 5/2 (dᵀQd)/r⁷, the coefficient of d.
            let radial = _mm256_fmadd_pd(
                minus_gm,
                inverse_r3,
                _mm256_mul_pd(minus_five_halves, _mm256_mul_pd(d_q_d, inverse_r7)),
            );
            sum_x[vector] = _mm256_fmadd_pd(radial, dx, _mm256_fmadd_pd(q_dx, inverse_r5, sum_x[vector]));
            sum_y[vector] = _mm256_fmadd_pd(radial, dy, _mm256_fmadd_pd(q_dy, inverse_r5, sum_y[vector]));
            sum_z[vector] = _mm256_fmadd_pd(radial, dz, _mm256_fmadd_pd(q_dz, inverse_r5, sum_z[vector]));
        }
    }
    let mut results = [[0.0; BLOCK]; 3];
    for vector in 0..VECTORS {
        let offset = vector * LANES;
        // SAFETY: each store writes LANES elements starting at offset < BLOCK.
        unsafe {
            _mm256_storeu_pd(results[0].as_mut_ptr().add(offset), sum_x[vector]);
            _mm256_storeu_pd(results[1].as_mut_ptr().add(offset), sum_y[vector]);
            _mm256_storeu_pd(results[2].as_mut_ptr().add(offset), sum_z[vector]);
        }
    }
    for (column, result) in output.into_iter().zip(&results) {
        for (value, added) in column.iter_mut().zip(&result[..lanes]) {
            *value += added;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{CompactSources, KernelPath, Octree};
    use crate::gravity::SourceColumns;

    /// The AVX-512 conversion of direct lists (eight bodies a step, masked) gives the same bits
    /// as the AVX2 one (column by column), ranges of every length and alignment included.
    #[test]
    fn direct_lists_convert_identically_on_every_simd_path() {
        if !(KernelPath::Avx512.is_supported() && KernelPath::Avx2Fma.is_supported()) {
            return;
        }
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1_u64 << 53) as f64 - 0.5
        };
        let count = 1000;
        let columns: Vec<Vec<f64>> = (0..4).map(|_| (0..count).map(|_| uniform()).collect()).collect();
        let gm: Vec<f64> = columns[3].iter().map(|value| value.abs() + 1e-3).collect();
        let sources =
            SourceColumns { x: &columns[0], y: &columns[1], z: &columns[2], gm: &gm, collision_threshold: &[] };
        let tree = Octree::build(&sources, 0.5, 1e-4);
        let scale = tree.compact.expect("a softened unit cloud fits f32");
        let mut ranges = Vec::new();
        let mut first = 0_u32;
        for length in (0..40).cycle().take(60) {
            let end = (first + length).min(count as u32);
            ranges.push((first, end));
            first = end + length % 3;
            if first >= count as u32 {
                break;
            }
        }
        let center = [0.1, -0.2, 0.05];
        let fill = |path: KernelPath| {
            let mut direct = CompactSources::default();
            tree.fill_compact_direct(path, &ranges, center, scale.inverse_length, &mut direct);
            direct
        };
        let (wide, narrow) = (fill(KernelPath::Avx512), fill(KernelPath::Avx2Fma));
        let expected: usize = ranges.iter().map(|&(first, end)| (end - first) as usize).sum();
        assert_eq!(wide.gm.len(), expected);
        for (wide, narrow) in [(&wide.x, &narrow.x), (&wide.y, &narrow.y), (&wide.z, &narrow.z), (&wide.gm, &narrow.gm)]
        {
            let (wide, narrow): (Vec<u32>, Vec<u32>) = (
                wide.iter().map(|value| value.to_bits()).collect(),
                narrow.iter().map(|value| value.to_bits()).collect(),
            );
            assert_eq!(wide, narrow);
        }
    }
}
