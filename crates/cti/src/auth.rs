//! Who a session is and what it may touch (SPEC §3): a user controls the devices they own or
//! are associated with; the admin token controls every device. Also: naming a device by name
//! or DN, and the admin-token comparison.
//!
//! Every check reads the current provisioning snapshot, so revoking `cti_enabled` or an
//! association takes effect on the next request.

use tether_store::model::{Device, DeviceKind, Line};
use tether_store::Snapshot;

use crate::protocol::error::{CtiError, ErrorCode};
use crate::protocol::request::DeviceRef;

/// An authenticated session's identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A user with `cti_enabled`.
    User(String),
    /// The admin bearer token.
    Admin,
}

/// A device a request named, and the line when it was named by DN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub device: String,
    /// (partition, dn) of the line the request named, if it named one.
    pub line: Option<(String, String)>,
}

/// Finds the device (and line) `r` names.
pub fn resolve(snap: &Snapshot, r: &DeviceRef) -> Result<Target, CtiError> {
    let key = |l: &Line| (l.partition.clone(), l.dn.clone());
    if let Some(device) = &r.device {
        if snap.device(device).is_none() {
            return Err(CtiError::new(
                ErrorCode::InvalidDevice,
                format!("no device {device}"),
            ));
        }
        let line = match &r.dn {
            None => None,
            Some(dn) => {
                let exact = snap
                    .lines_of(device)
                    .find(|l| l.dn == *dn || l.e164.as_deref() == Some(dn.as_str()));
                let equivalent = || snap.line_by_number(dn).filter(|l| l.device == *device);
                match exact.or_else(equivalent) {
                    Some(l) => Some(key(l)),
                    None => {
                        return Err(CtiError::param(
                            "dn",
                            format!("{dn} is not a line of device {device}"),
                        ))
                    }
                }
            }
        };
        return Ok(Target {
            device: device.clone(),
            line,
        });
    }
    let dn = r.dn.as_deref().unwrap_or_default();
    match snap.line_by_number(dn) {
        Some(l) => Ok(Target {
            device: l.device.clone(),
            line: Some(key(l)),
        }),
        None => Err(CtiError::new(
            ErrorCode::InvalidDevice,
            format!("no device has directory number {dn}"),
        )),
    }
}

/// Names a connection's device by device name or DN.
pub fn resolve_name(snap: &Snapshot, name_or_dn: &str) -> Result<String, CtiError> {
    if snap.device(name_or_dn).is_some() {
        return Ok(name_or_dn.to_owned());
    }
    snap.line_by_number(name_or_dn)
        .map(|l| l.device.clone())
        .ok_or_else(|| {
            CtiError::new(
                ErrorCode::InvalidDevice,
                format!("no device or directory number {name_or_dn}"),
            )
        })
}

/// Whether `who` may monitor and control `device`: the device must exist, and a user must
/// still be CTI-enabled and own the device or be associated with it.
pub fn authorize<'s>(
    snap: &'s Snapshot,
    who: &Principal,
    device: &str,
) -> Result<&'s Device, CtiError> {
    let Some(d) = snap.device(device) else {
        return Err(CtiError::new(
            ErrorCode::InvalidDevice,
            format!("no device {device}"),
        ));
    };
    let Principal::User(uid) = who else {
        return Ok(d);
    };
    let Some(user) = snap.user(uid).filter(|u| u.cti_enabled) else {
        return Err(CtiError::new(
            ErrorCode::CtiNotEnabled,
            format!("user {uid} may no longer use the CTI interface"),
        ));
    };
    if d.owner.as_deref() == Some(uid.as_str()) || user.associated_devices.contains(&d.name) {
        Ok(d)
    } else {
        Err(CtiError::new(
            ErrorCode::PrivilegeViolation,
            format!("device {device} is neither yours nor associated with you"),
        ))
    }
}

/// As [`authorize`], and the device must be a CTI remote device (remote destinations and the
/// T-Server contract exist only there).
pub fn authorize_remote<'s>(
    snap: &'s Snapshot,
    who: &Principal,
    device: &str,
) -> Result<&'s Device, CtiError> {
    let d = authorize(snap, who, device)?;
    if d.kind != DeviceKind::CtiRemoteDevice {
        return Err(CtiError::new(
            ErrorCode::InvalidDevice,
            format!("device {device} is not a CTI remote device"),
        ));
    }
    Ok(d)
}

/// The devices a user owns or is associated with, by name.
pub fn devices_of(snap: &Snapshot, uid: &str) -> Vec<String> {
    let mut v: Vec<String> = snap
        .data()
        .devices
        .values()
        .filter(|d| d.owner.as_deref() == Some(uid))
        .map(|d| d.name.clone())
        .collect();
    if let Some(u) = snap.user(uid) {
        for d in &u.associated_devices {
            if snap.device(d).is_some() && !v.contains(d) {
                v.push(d.clone());
            }
        }
    }
    v.sort();
    v
}

/// Compares a presented token with the configured one in time independent of where they
/// differ.
pub fn token_matches(configured: Option<&str>, given: &str) -> bool {
    let Some(want) = configured else {
        return false;
    };
    let (a, b) = (want.as_bytes(), given.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for (i, x) in a.iter().enumerate() {
        diff |= x ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::token_matches;

    #[test]
    fn tokens() {
        assert!(token_matches(Some("0123456789abcdef"), "0123456789abcdef"));
        assert!(!token_matches(Some("0123456789abcdef"), "0123456789abcdeF"));
        assert!(!token_matches(Some("0123456789abcdef"), "0123456789abcde"));
        assert!(!token_matches(
            Some("0123456789abcdef"),
            "0123456789abcdef0"
        ));
        assert!(!token_matches(None, ""));
    }
}
