//! The `[media]` section: anchoring, the address and port range of RTP, the inactivity timeout
//! and the music on hold file.

use serde::Deserialize;

use super::yes;

/// Media anchoring and the RTP port range.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Media {
    #[serde(default = "yes")]
    pub anchor: bool,
    #[serde(default)]
    pub address: Option<std::net::IpAddr>,
    #[serde(default = "default_media_bind")]
    pub bind: std::net::IpAddr,
    #[serde(default = "default_media_port_min")]
    pub port_min: u16,
    #[serde(default = "default_media_port_max")]
    pub port_max: u16,
    #[serde(default = "default_inactivity_seconds")]
    pub inactivity_seconds: u64,
    /// A WAV file (any common rate and sample format) played to held parties instead of the
    /// built-in tune; relative to the working directory.
    #[serde(default)]
    pub music_on_hold: Option<std::path::PathBuf>,
}

impl Default for Media {
    fn default() -> Self {
        Media {
            anchor: true,
            address: None,
            bind: default_media_bind(),
            port_min: default_media_port_min(),
            port_max: default_media_port_max(),
            inactivity_seconds: default_inactivity_seconds(),
            music_on_hold: None,
        }
    }
}

fn default_media_bind() -> std::net::IpAddr {
    std::net::Ipv4Addr::UNSPECIFIED.into()
}
fn default_media_port_min() -> u16 {
    10_000
}
fn default_media_port_max() -> u16 {
    19_999
}
fn default_inactivity_seconds() -> u64 {
    30
}

impl Media {
    /// Why the port range cannot work, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        tether_rtp::ports::PortPool::new(self.port_min, self.port_max)
            .map(|_| ())
            .map_err(|e| format!("{e}"))
    }
}
