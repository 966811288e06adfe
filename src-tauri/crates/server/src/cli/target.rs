//! The commands that talk to a running engine (`incident`, `export`, `import`, `report`): which
//! engine, under which token, and how an address is written on the command line.

use std::net::{Ipv4Addr, SocketAddr};

/// The running engine a command talks to.
#[derive(clap::Args)]
pub struct Target {
    /// The running engine's UI/API address
    #[arg(long, default_value = "127.0.0.1:4320", value_parser = parse_addr)]
    pub ui: SocketAddr,
    /// The engine's API token, if it requires one
    #[arg(long, env = "SIGHTLINE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Print the answer as JSON
    #[arg(long)]
    pub json: bool,
}

/// An address as given on the command line: `HOST:PORT`, or a bare port on localhost.
pub(crate) fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    s.parse()
        .map_err(|_| format!("{s:?} is not an address: use HOST:PORT, e.g. 127.0.0.1:4318"))
}
