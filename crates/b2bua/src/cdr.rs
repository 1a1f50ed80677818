//! Call detail records (SPEC §6): one per call leg pair, with CUCM CDR field names.

use std::time::SystemTime;

/// A finished call. Times are UNIX epoch milliseconds, 0 when the event never happened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cdr {
    pub global_call_id: u64,
    pub orig_leg_call_identifier: String,
    pub dest_leg_identifier: String,
    pub date_time_origination: u64,
    pub date_time_connect: u64,
    pub date_time_disconnect: u64,
    /// Seconds from connect to disconnect.
    pub duration: u64,
    pub calling_party_number: String,
    pub original_called_party_number: String,
    pub final_called_party_number: String,
    pub last_redirect_dn: String,
    pub orig_device_name: String,
    pub dest_device_name: String,
    /// Q.850 cause of the release, from the side that released.
    pub orig_cause_value: u8,
    pub dest_cause_value: u8,
    /// The trunk (span) each side used, if any.
    pub orig_span: String,
    pub dest_span: String,
    /// The remote destination's number when the call went to one (never shown to parties).
    pub final_mobile_called_party_number: String,
    pub mobile_calling_party_number: String,
}

/// Epoch milliseconds of a wall-clock time (the driver supplies wall-clock at the edges).
pub fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
