//! The admin dashboard as its own process (one Kubernetes Deployment): configuration from the
//! environment, the stores for the first admin, then HTTP until SIGTERM.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    galaxy_runtime::init_tracing();
    let config = galaxy_admin_dashboard::DashboardConfig::from_env().context("admin-dashboard configuration")?;
    let storage = galaxy_storage::StorageConfig::from_env().context("storage configuration")?;
    let stores = galaxy_storage::Stores::connect(&storage).await.context("connecting to the stores")?;
    let listener = galaxy_runtime::bind(config.listen_addr, false).await?;
    galaxy_admin_dashboard::serve(listener, config, stores, galaxy_runtime::shutdown_signal()).await?;
    Ok(())
}
