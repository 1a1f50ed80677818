//! The media port range: RTP on even ports, RTCP on the odd port above (RFC 3550 §11), handed out
//! and taken back. Pure bookkeeping — binding the sockets is the binary's job.
//!
//! Ports are reused in the order they were freed (oldest first), so a port a call just gave back
//! rests as long as possible before the next call gets it and late packets of the old call do not
//! land in the new one.

use std::collections::VecDeque;

/// The RTP and RTCP ports of one media endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RtpPorts {
    /// Even.
    pub rtp: u16,
    /// `rtp + 1`.
    pub rtcp: u16,
}

/// A configuration that cannot make a pool. The operator is at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortRangeError {
    /// `min` must be even (RTP takes even ports).
    OddStart { min: u16 },
    /// The range holds no even/odd pair.
    TooSmall { min: u16, max: u16 },
}

impl std::fmt::Display for PortRangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortRangeError::OddStart { min } => {
                write!(f, "RTP port range starts at odd port {min}")
            }
            PortRangeError::TooSmall { min, max } => {
                write!(f, "RTP port range {min}-{max} holds no even/odd pair")
            }
        }
    }
}

impl std::error::Error for PortRangeError {}

/// Why a port could not be given or taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortError {
    /// Every pair of the range is in use (resource limit, not a fault).
    Exhausted,
    /// The port is not the RTP port of a pair of this range (the caller is at fault).
    NotInRange { port: u16 },
    /// The pair is already free (the caller released it twice).
    NotAllocated { port: u16 },
    /// The pair asked for by number is in use.
    InUse { port: u16 },
}

impl std::fmt::Display for PortError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortError::Exhausted => write!(f, "no free RTP port pair"),
            PortError::NotInRange { port } => {
                write!(f, "port {port} is not an RTP port of the range")
            }
            PortError::NotAllocated { port } => write!(f, "port {port} is not allocated"),
            PortError::InUse { port } => write!(f, "port {port} is in use"),
        }
    }
}

impl std::error::Error for PortError {}

/// Even/odd port pairs from an inclusive range `min..=max`.
#[derive(Debug, Clone)]
pub struct PortPool {
    min: u16,
    pairs: u16,
    free: VecDeque<u16>,
    in_use: Vec<bool>,
}

impl PortPool {
    /// A pool over `min..=max`; the last port is unused when `max` is even.
    pub fn new(min: u16, max: u16) -> Result<PortPool, PortRangeError> {
        if !min.is_multiple_of(2) {
            return Err(PortRangeError::OddStart { min });
        }
        if max <= min {
            return Err(PortRangeError::TooSmall { min, max });
        }
        let pairs = (u32::from(max) - u32::from(min)).div_ceil(2) as u16;
        if pairs == 0 {
            return Err(PortRangeError::TooSmall { min, max });
        }
        Ok(PortPool {
            min,
            pairs,
            free: (0..pairs).map(|i| min + 2 * i).collect(),
            in_use: vec![false; usize::from(pairs)],
        })
    }

    /// The lowest RTP port of the range.
    pub fn min(&self) -> u16 {
        self.min
    }

    /// How many pairs the range holds.
    pub fn capacity(&self) -> usize {
        usize::from(self.pairs)
    }

    /// How many pairs are free.
    pub fn available(&self) -> usize {
        self.free.len()
    }

    /// The pair index of `port` (RTP or RTCP) when it belongs to the range.
    pub fn pair_index(&self, port: u16) -> Option<usize> {
        let offset = port.checked_sub(self.min)?;
        let index = usize::from(offset / 2);
        (index < usize::from(self.pairs)).then_some(index)
    }

    pub fn allocate(&mut self) -> Result<RtpPorts, PortError> {
        let rtp = self.free.pop_front().ok_or(PortError::Exhausted)?;
        if let Some(slot) = self.pair_index(rtp).and_then(|i| self.in_use.get_mut(i)) {
            *slot = true;
        }
        Ok(RtpPorts { rtp, rtcp: rtp + 1 })
    }

    /// Takes the pair whose RTP port is `rtp`, when another room (the call engine) chose it.
    pub fn take(&mut self, rtp: u16) -> Result<RtpPorts, PortError> {
        if !rtp.is_multiple_of(2) {
            return Err(PortError::NotInRange { port: rtp });
        }
        let index = self
            .pair_index(rtp)
            .ok_or(PortError::NotInRange { port: rtp })?;
        match self.in_use.get_mut(index) {
            Some(slot) if !*slot => {
                *slot = true;
                if let Some(at) = self.free.iter().position(|&p| p == rtp) {
                    self.free.remove(at);
                }
                Ok(RtpPorts { rtp, rtcp: rtp + 1 })
            }
            _ => Err(PortError::InUse { port: rtp }),
        }
    }

    /// Gives the pair whose RTP port is `rtp` back to the pool.
    pub fn release(&mut self, rtp: u16) -> Result<(), PortError> {
        if !rtp.is_multiple_of(2) {
            return Err(PortError::NotInRange { port: rtp });
        }
        let index = self
            .pair_index(rtp)
            .ok_or(PortError::NotInRange { port: rtp })?;
        match self.in_use.get_mut(index) {
            Some(slot) if *slot => {
                *slot = false;
                self.free.push_back(rtp);
                Ok(())
            }
            _ => Err(PortError::NotAllocated { port: rtp }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_must_start_even_and_hold_a_pair() {
        assert_eq!(
            PortPool::new(10001, 10010).unwrap_err(),
            PortRangeError::OddStart { min: 10001 }
        );
        assert!(PortPool::new(10000, 10000).is_err());
        assert_eq!(PortPool::new(10000, 10001).unwrap().capacity(), 1);
        // 10000..=10004: pairs 10000/1 and 10002/3; 10004 alone has no RTCP port.
        assert_eq!(PortPool::new(10000, 10004).unwrap().capacity(), 2);
        assert_eq!(PortPool::new(10000, 10005).unwrap().capacity(), 3);
        assert_eq!(PortPool::new(65532, 65535).unwrap().capacity(), 2);
    }

    #[test]
    fn a_pair_taken_by_number_is_not_allocated_again() {
        let mut pool = PortPool::new(20000, 20005).unwrap();
        assert_eq!(pool.take(20002).unwrap().rtcp, 20003);
        assert_eq!(pool.take(20002), Err(PortError::InUse { port: 20002 }));
        assert_eq!(pool.take(20001), Err(PortError::NotInRange { port: 20001 }));
        assert_eq!(pool.available(), 2);
        assert_eq!(pool.allocate().unwrap().rtp, 20000);
        assert_eq!(pool.allocate().unwrap().rtp, 20004);
        assert_eq!(pool.allocate(), Err(PortError::Exhausted));
        pool.release(20002).unwrap();
        assert_eq!(pool.allocate().unwrap().rtp, 20002);
    }

    #[test]
    fn exhaustion_and_release_in_fifo_order() {
        let mut pool = PortPool::new(20000, 20005).unwrap();
        let a = pool.allocate().unwrap();
        let b = pool.allocate().unwrap();
        let c = pool.allocate().unwrap();
        assert_eq!((a.rtp, a.rtcp), (20000, 20001));
        assert_eq!((b.rtp, c.rtp), (20002, 20004));
        assert_eq!(pool.allocate(), Err(PortError::Exhausted));
        assert_eq!(pool.available(), 0);
        pool.release(b.rtp).unwrap();
        pool.release(a.rtp).unwrap();
        assert_eq!(
            pool.release(a.rtp),
            Err(PortError::NotAllocated { port: 20000 })
        );
        assert_eq!(
            pool.release(20001),
            Err(PortError::NotInRange { port: 20001 })
        );
        assert_eq!(
            pool.release(20006),
            Err(PortError::NotInRange { port: 20006 })
        );
        assert_eq!(
            pool.release(19998),
            Err(PortError::NotInRange { port: 19998 })
        );
        // Oldest freed first.
        assert_eq!(pool.allocate().unwrap().rtp, 20002);
        assert_eq!(pool.allocate().unwrap().rtp, 20000);
        assert_eq!(pool.allocate(), Err(PortError::Exhausted));
    }

    #[test]
    fn pair_index_maps_both_ports() {
        let pool = PortPool::new(30000, 30009).unwrap();
        assert_eq!(pool.pair_index(30000), Some(0));
        assert_eq!(pool.pair_index(30001), Some(0));
        assert_eq!(pool.pair_index(30009), Some(4));
        assert_eq!(pool.pair_index(30010), None);
        assert_eq!(pool.pair_index(29999), None);
    }
}
