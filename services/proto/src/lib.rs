//! Galaxy's gRPC contracts (protobuf package `galaxy.v1`): the generated messages, clients and
//! servers for the galaxy, physics, tick-engine and players services, and — in [`convert`] —
//! the one place where wire messages become validated domain values and back.
//!
//! Every service crate and the gateway depend on this crate; it is the only one with `.proto`
//! files and a code-generating `build.rs` (`protox`, so no `protoc` is needed).

#![warn(missing_docs)]

pub mod convert;

/// Generated code for `galaxy.v1`.
#[allow(missing_docs, clippy::all, clippy::pedantic, unreachable_pub)]
pub mod v1 {
    tonic::include_proto!("galaxy.v1");
}

pub use convert::ConversionError;
