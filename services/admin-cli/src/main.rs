//! `galaxy-admin`: the commands, their output and exit codes are documented in the library.

use clap::Parser;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let cli = galaxy_admin::Cli::parse();
    let json = cli.json;
    match galaxy_admin::run(cli).await {
        Ok(report) => {
            println!("{}", if json { report.json_text() } else { report.text });
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            let code = error.exit_code();
            eprintln!("galaxy-admin: {:#}", anyhow::Error::from(error));
            std::process::ExitCode::from(code)
        }
    }
}
