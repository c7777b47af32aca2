//! [`DashboardConfig`]: every environment variable the dashboard reads, read once, and the
//! production check on the first admin's password.

use std::net::SocketAddr;

/// The first admin's password outside production when none is given: convenient for local
/// play, and exactly what production refuses.
pub const DEFAULT_ADMIN_PASSWORD: &str = "galaxy-admin";
/// Passwords production refuses besides the empty one and [`DEFAULT_ADMIN_PASSWORD`]: the ones
/// that get tried first.
const WELL_KNOWN_PASSWORDS: [&str; 6] = ["admin", "password", "changeme", "change-me", "galaxy", "12345678"];

/// Why the configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable holds something unusable.
    #[error("{0}")]
    Variable(#[from] galaxy_runtime::RuntimeError),
    /// Production with an empty or well-known first-admin password.
    #[error(
        "refusing to start in production with an empty or default GALAXY_ADMIN_PASSWORD; set a password of your own"
    )]
    DefaultPasswordInProduction,
}

/// How the dashboard runs.
#[derive(Clone)]
pub struct DashboardConfig {
    /// `GALAXY_ADMIN_ADDR` (0.0.0.0:8080).
    pub listen_addr: SocketAddr,
    /// `TICK_ENGINE_URL` (http://127.0.0.1:8001).
    pub tick_engine_url: String,
    /// `PHYSICS_URL` (http://127.0.0.1:8002).
    pub physics_url: String,
    /// `PLAYERS_URL` (http://127.0.0.1:8003).
    pub players_url: String,
    /// `GALAXY_URL` (http://127.0.0.1:8004).
    pub galaxy_url: String,
    /// `GALAXY_ADMIN_USERNAME` (admin): the first admin, created at start-up if missing.
    pub admin_username: String,
    /// `GALAXY_ADMIN_PASSWORD` ([`DEFAULT_ADMIN_PASSWORD`] outside production).
    pub admin_password: String,
    /// `GALAXY_ENV=production`: refuse default passwords, mark the session cookie `Secure`.
    pub production: bool,
}

// Hand-written so the password stays out of logs.
impl std::fmt::Debug for DashboardConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DashboardConfig")
            .field("listen_addr", &self.listen_addr)
            .field("tick_engine_url", &self.tick_engine_url)
            .field("physics_url", &self.physics_url)
            .field("players_url", &self.players_url)
            .field("galaxy_url", &self.galaxy_url)
            .field("admin_username", &self.admin_username)
            .field("admin_password", &"<redacted>")
            .field("production", &self.production)
            .finish()
    }
}

impl DashboardConfig {
    /// Reads the variables above; see [`DashboardConfig::validate`].
    pub fn from_env() -> Result<DashboardConfig, ConfigError> {
        let text = galaxy_runtime::text_from_env;
        let production = text("GALAXY_ENV", "development").eq_ignore_ascii_case("production");
        let config = DashboardConfig {
            listen_addr: galaxy_runtime::address_from_env("GALAXY_ADMIN_ADDR", "0.0.0.0:8080")?,
            tick_engine_url: text("TICK_ENGINE_URL", "http://127.0.0.1:8001"),
            physics_url: text("PHYSICS_URL", "http://127.0.0.1:8002"),
            players_url: text("PLAYERS_URL", "http://127.0.0.1:8003"),
            galaxy_url: text("GALAXY_URL", "http://127.0.0.1:8004"),
            admin_username: text("GALAXY_ADMIN_USERNAME", "admin"),
            // Unset and empty are the same here; production refuses both below.
            admin_password: std::env::var("GALAXY_ADMIN_PASSWORD")
                .ok()
                .filter(|password| !password.is_empty())
                .unwrap_or_else(|| if production { String::new() } else { DEFAULT_ADMIN_PASSWORD.to_owned() }),
            production,
        };
        config.validate()?;
        Ok(config)
    }

    /// In production, the first admin's password must be neither empty nor a well-known default.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let password = self.admin_password.trim();
        let well_known = password.is_empty()
            || password == DEFAULT_ADMIN_PASSWORD
            || WELL_KNOWN_PASSWORDS.iter().any(|known| known.eq_ignore_ascii_case(password));
        if self.production && well_known {
            return Err(ConfigError::DefaultPasswordInProduction);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(password: &str, production: bool) -> DashboardConfig {
        DashboardConfig {
            listen_addr: ([127, 0, 0, 1], 0).into(),
            tick_engine_url: String::new(),
            physics_url: String::new(),
            players_url: String::new(),
            galaxy_url: String::new(),
            admin_username: "admin".into(),
            admin_password: password.into(),
            production,
        }
    }

    #[test]
    fn production_refuses_empty_and_default_passwords() {
        for password in ["", "   ", DEFAULT_ADMIN_PASSWORD, "admin", "Password", "changeme"] {
            assert!(
                matches!(config(password, true).validate(), Err(ConfigError::DefaultPasswordInProduction)),
                "{password:?}"
            );
        }
        assert!(config("a long secret of our own", true).validate().is_ok());
    }

    #[test]
    fn development_accepts_the_default_password() {
        assert!(config(DEFAULT_ADMIN_PASSWORD, false).validate().is_ok());
    }

    #[test]
    fn debug_output_hides_the_password() {
        assert!(!format!("{:?}", config("hunter2hunter2", false)).contains("hunter2"));
    }
}
