//! Caller-id rules of SPEC §2: a remote destination's number is never shown to another party,
//! and a call from an active RD's number is presented as the device's DN (number matching).

use tether_store::Snapshot;

/// What the called party is shown for a call from `calling` (a number as received).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presentation {
    /// The number shown (the user part of From and P-Asserted-Identity).
    pub number: String,
    /// The display name, when provisioning has one.
    pub display: Option<String>,
    /// Set when the caller was recognised as a remote destination: the device it belongs to.
    pub device: Option<String>,
}

/// Number matching: a caller whose number is one of a device's remote destinations is shown as
/// that device's first line (its DN), never as the RD number.
pub fn present(snap: &Snapshot, calling: &str) -> Presentation {
    if let Some(rd) = snap.remote_destination_by_number(calling) {
        if let Some(line) = snap.lines_of(&rd.device).next() {
            let display = (!line.display_name.is_empty()).then(|| line.display_name.clone());
            return Presentation {
                number: line.dn.clone(),
                display,
                device: Some(rd.device.clone()),
            };
        }
    }
    Presentation {
        number: calling.to_owned(),
        display: None,
        device: None,
    }
}

/// The name a device's calls show: its display name, else its first line's.
pub fn device_display(snap: &Snapshot, device: &str) -> Option<String> {
    let line = snap.lines_of(device).min_by_key(|l| l.position);
    snap.device(device)
        .map(|d| d.display_name.as_str())
        .into_iter()
        .chain(line.map(|l| l.display_name.as_str()))
        .find(|d| !d.is_empty())
        .map(str::to_owned)
}
