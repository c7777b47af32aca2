//! Generates the gRPC code from `proto/` with `protox` (pure Rust: no `protoc` on the machine).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files =
        ["common", "galaxy", "physics", "tick_engine", "players"].map(|name| format!("proto/galaxy/v1/{name}.proto"));
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(&files, ["proto"])?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    Ok(())
}
