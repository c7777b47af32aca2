//! The command line (clap): global options, then one subcommand.

use clap::{Args, Parser, Subcommand};

/// Steer and inspect a running galaxy over the services' gRPC ports.
///
/// Changes need an admin: `--token` (GALAXY_ADMIN_TOKEN), or `--username`/`--password`
/// (GALAXY_ADMIN_USERNAME/GALAXY_ADMIN_PASSWORD), which log in through the players service.
/// Every change is written to the admin audit log. Exit codes: 0 done, 2 bad usage, 3 a service
/// is unreachable, 4 not authorised, 5 refused by the service, 6 done but not audited.
#[derive(Debug, Parser)]
#[command(name = "galaxy-admin", version)]
pub struct Cli {
    /// Print JSON (one document) instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Where the services are.
    #[command(flatten)]
    pub services: ServiceUrls,
    /// Who is acting (argument names `token`, `username` and `password` are taken by these
    /// global options: a subcommand's argument of the same name would silently replace them).
    #[command(flatten)]
    pub credentials: Credentials,
    /// Seconds to wait for a service before calling it unreachable.
    #[arg(long, global = true, default_value_t = 5.0, env = "GALAXY_ADMIN_TIMEOUT")]
    pub timeout: f64,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The services' gRPC URLs; the defaults are the ports of the design (8001..8004).
#[derive(Debug, Clone, Args)]
pub struct ServiceUrls {
    /// tick-engine gRPC URL.
    #[arg(long, global = true, env = "TICK_ENGINE_URL", default_value = "http://127.0.0.1:8001")]
    pub tick_engine_url: String,
    /// physics gRPC URL.
    #[arg(long, global = true, env = "PHYSICS_URL", default_value = "http://127.0.0.1:8002")]
    pub physics_url: String,
    /// players gRPC URL.
    #[arg(long, global = true, env = "PLAYERS_URL", default_value = "http://127.0.0.1:8003")]
    pub players_url: String,
    /// galaxy gRPC URL.
    #[arg(long, global = true, env = "GALAXY_URL", default_value = "http://127.0.0.1:8004")]
    pub galaxy_url: String,
}

/// An admin's session token, or an admin's username and password to log in with.
#[derive(Clone, Args)]
pub struct Credentials {
    /// An admin's session token.
    #[arg(long, global = true, env = "GALAXY_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// An admin's username.
    #[arg(long, global = true, env = "GALAXY_ADMIN_USERNAME")]
    pub username: Option<String>,
    /// An admin's password.
    #[arg(long, global = true, env = "GALAXY_ADMIN_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

// Hand-written so the token and password never reach a log.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Credentials")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The tick loop's status and the game configuration.
    Status,
    /// Stop ticking (game time stands still).
    Pause,
    /// Start ticking again.
    Resume,
    /// Ticks per wall second (0.1 to 100).
    #[command(subcommand)]
    TickRate(GetSet),
    /// Game seconds per wall second (0.1 to 100).
    #[command(subcommand)]
    TimeScale(GetSet),
    /// Whether new players may register.
    #[command(subcommand)]
    Registrations(Registrations),
    /// The simulation's saved states.
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// Accounts.
    #[command(subcommand)]
    Players(PlayersCommand),
    /// Admin accounts.
    #[command(subcommand)]
    Admins(AdminsCommand),
    /// The admin audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

/// Read or change a number.
#[derive(Debug, Subcommand)]
pub enum GetSet {
    /// Show the current value.
    Get,
    /// Change it.
    Set {
        /// The new value.
        value: f64,
    },
}

/// Open or close registrations.
#[derive(Debug, Subcommand)]
pub enum Registrations {
    /// Let new players register.
    Open,
    /// Refuse new registrations (existing players still log in).
    Close,
}

/// Snapshots.
#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Save the current state now.
    Create,
    /// Saved snapshots, newest first.
    List {
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Replace the simulation's state with a saved one.
    Restore {
        /// The snapshot's id (from `snapshot list`); 0 or `latest`: the newest.
        id: String,
    },
}

/// Players.
#[derive(Debug, Subcommand)]
pub enum PlayersCommand {
    /// Every account, oldest first.
    List {
        /// At most this many (up to 1000).
        #[arg(long, default_value_t = 1000)]
        limit: u32,
    },
    /// End every session of a player (they must log in again).
    Kick {
        /// The player's username.
        player: String,
    },
    /// Ban a player (no more logins; their sessions end).
    Ban {
        /// The player's username.
        player: String,
    },
    /// Lift a ban.
    Unban {
        /// The player's username.
        player: String,
    },
}

/// Admins.
#[derive(Debug, Subcommand)]
pub enum AdminsCommand {
    /// Create a new admin account. The password is read from GALAXY_NEW_ADMIN_PASSWORD or the
    /// option, never echoed.
    Create {
        /// The new admin's username.
        name: String,
        /// The new admin's password (8 to 128 characters).
        #[arg(long = "new-password", env = "GALAXY_NEW_ADMIN_PASSWORD", hide_env_values = true)]
        new_password: String,
    },
}

/// The audit log.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// The newest entries first.
    List {
        /// At most this many (up to 1000).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}
