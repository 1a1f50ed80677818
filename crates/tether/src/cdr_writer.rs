//! The CDR writer: takes the engine's call records off a bounded queue and stores them in
//! batches (up to [`BATCH`] records, or what arrived within [`LINGER`] of the first), so the
//! call path never waits on the database. A failed batch is retried a few times, then logged
//! and counted; the writer never panics and never stops the server. When every sender is gone
//! it stores what is queued and ends.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tether_b2bua::Cdr;
use tether_store::{CdrRow, Store};
use tokio::sync::mpsc;

use crate::metrics::CdrCounters;

/// Most records in one transaction.
pub const BATCH: usize = 500;
/// How long a batch waits for more records after its first.
pub const LINGER: Duration = Duration::from_millis(200);
/// Records the queue holds before new ones are dropped (and counted).
pub const QUEUE: usize = 50_000;
/// Tries per batch before it is given up.
const ATTEMPTS: u32 = 3;
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// The table row of an engine record (its strings move over, nothing is copied).
pub fn row(c: Cdr) -> CdrRow {
    CdrRow {
        id: 0,
        cdr_record_type: 1,
        global_call_id: c.global_call_id.to_string(),
        orig_leg_call_identifier: c.orig_leg_call_identifier,
        dest_leg_identifier: c.dest_leg_identifier,
        date_time_origination: c.date_time_origination,
        date_time_connect: c.date_time_connect,
        date_time_disconnect: c.date_time_disconnect,
        duration: c.duration,
        calling_party_number: c.calling_party_number,
        original_called_party_number: c.original_called_party_number,
        final_called_party_number: c.final_called_party_number,
        last_redirect_dn: c.last_redirect_dn,
        orig_device_name: c.orig_device_name,
        dest_device_name: c.dest_device_name,
        orig_cause_value: u32::from(c.orig_cause_value),
        dest_cause_value: u32::from(c.dest_cause_value),
        orig_span: c.orig_span,
        dest_span: c.dest_span,
        mobile_calling_party_number: c.mobile_calling_party_number,
        final_mobile_called_party_number: c.final_mobile_called_party_number,
        mobile_call_type: 0,
    }
}

/// Runs until every sender of `rx` is dropped and the queue is empty.
pub async fn run(store: Arc<Store>, mut rx: mpsc::Receiver<CdrRow>, counters: Arc<CdrCounters>) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        let linger = tokio::time::sleep(LINGER);
        tokio::pin!(linger);
        while batch.len() < BATCH {
            tokio::select! {
                more = rx.recv() => match more {
                    Some(r) => batch.push(r),
                    None => break,
                },
                () = &mut linger => break,
            }
        }
        store_batch(&store, &mut batch, &counters).await;
    }
    tracing::debug!("CDR writer finished");
}

async fn store_batch(store: &Store, batch: &mut Vec<CdrRow>, counters: &CdrCounters) {
    let n = batch.len() as u64;
    for attempt in 1..=ATTEMPTS {
        match store.insert_cdrs(batch).await {
            Ok(()) => {
                counters.written.fetch_add(n, Ordering::Relaxed);
                tracing::debug!(records = n, "CDRs stored");
                batch.clear();
                return;
            }
            Err(e) if attempt < ATTEMPTS => {
                tracing::warn!(error = %e, records = n, attempt, "cannot store CDRs; retrying");
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            Err(e) => {
                let first = batch
                    .first()
                    .map(|r| r.global_call_id.as_str())
                    .unwrap_or("");
                let last = batch
                    .last()
                    .map(|r| r.global_call_id.as_str())
                    .unwrap_or("");
                tracing::error!(
                    error = %e,
                    records = n,
                    first_global_call_id = first,
                    last_global_call_id = last,
                    "CDRs lost: the database refused them {ATTEMPTS} times"
                );
                counters.failed.fetch_add(n, Ordering::Relaxed);
            }
        }
    }
    batch.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_carries_every_field() {
        let c = Cdr {
            global_call_id: 77,
            orig_leg_call_identifier: "a@h".into(),
            dest_leg_identifier: "b@h".into(),
            date_time_origination: 1,
            date_time_connect: 2,
            date_time_disconnect: 3,
            duration: 4,
            calling_party_number: "5".into(),
            original_called_party_number: "6".into(),
            final_called_party_number: "7".into(),
            last_redirect_dn: "8".into(),
            orig_device_name: "9".into(),
            dest_device_name: "10".into(),
            orig_cause_value: 11,
            dest_cause_value: 12,
            orig_span: "13".into(),
            dest_span: "14".into(),
            final_mobile_called_party_number: "15".into(),
            mobile_calling_party_number: "16".into(),
        };
        let r = row(c);
        assert_eq!(r.global_call_id, "77");
        assert_eq!(
            (
                r.date_time_origination,
                r.date_time_connect,
                r.date_time_disconnect,
                r.duration
            ),
            (1, 2, 3, 4)
        );
        assert_eq!((r.orig_cause_value, r.dest_cause_value), (11, 12));
        assert_eq!(
            [
                r.orig_leg_call_identifier.as_str(),
                &r.dest_leg_identifier,
                &r.calling_party_number,
                &r.original_called_party_number,
                &r.final_called_party_number,
                &r.last_redirect_dn,
                &r.orig_device_name,
                &r.dest_device_name,
                &r.orig_span,
                &r.dest_span,
                &r.final_mobile_called_party_number,
                &r.mobile_calling_party_number,
            ],
            ["a@h", "b@h", "5", "6", "7", "8", "9", "10", "13", "14", "15", "16"]
        );
        assert_eq!(r.cdr_record_type, 1);
    }
}
