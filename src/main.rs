use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    puente::cli::Cli::parse().run()
}
