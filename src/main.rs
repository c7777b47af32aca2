//! `galaxy`: the whole game in one process (see the library docs for what runs where).
//! `cargo run --release`, then open http://127.0.0.1:8000.

use anyhow::Result;

/// The allocator of the separate gateway and physics binaries (see their `main.rs`): fewer
/// resident bytes for many WebSockets, no fresh pages for each tick's serialised state.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<()> {
    galaxy_runtime::init_tracing();
    let options = galaxy::GameOptions::from_env()?;
    let stores = galaxy::connect_stores().await?;
    let (ready, addresses) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        if let Ok(addresses) = addresses.await {
            let addresses: galaxy::GameAddresses = addresses;
            tracing::info!(
                tick_engine = %addresses.tick_engine, physics = %addresses.physics,
                players = %addresses.players, galaxy = %addresses.galaxy,
                "Galaxy is running: open http://{}", addresses.http
            );
            if let Some(admin) = addresses.admin {
                tracing::info!("admin dashboard: http://{admin}/admin/");
            }
        }
    });
    galaxy::run(options, stores, ready, galaxy_runtime::shutdown_signal()).await
}
