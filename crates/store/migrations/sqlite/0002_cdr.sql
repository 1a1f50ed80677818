-- Call detail records, one per call leg pair (SPEC.md §6). Column names follow the CUCM CDR
-- field names in snake case; times are epoch milliseconds (0 = never happened).
CREATE TABLE cdrs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cdr_record_type BIGINT NOT NULL DEFAULT 1,
    global_call_id TEXT NOT NULL,
    orig_leg_call_identifier TEXT NOT NULL,
    dest_leg_identifier TEXT NOT NULL DEFAULT '',
    date_time_origination BIGINT NOT NULL,
    date_time_connect BIGINT NOT NULL DEFAULT 0,
    date_time_disconnect BIGINT NOT NULL DEFAULT 0,
    duration BIGINT NOT NULL DEFAULT 0,
    calling_party_number TEXT NOT NULL DEFAULT '',
    original_called_party_number TEXT NOT NULL DEFAULT '',
    final_called_party_number TEXT NOT NULL DEFAULT '',
    last_redirect_dn TEXT NOT NULL DEFAULT '',
    orig_device_name TEXT NOT NULL DEFAULT '',
    dest_device_name TEXT NOT NULL DEFAULT '',
    orig_cause_value BIGINT NOT NULL DEFAULT 0,
    dest_cause_value BIGINT NOT NULL DEFAULT 0,
    orig_span TEXT NOT NULL DEFAULT '',
    dest_span TEXT NOT NULL DEFAULT '',
    mobile_calling_party_number TEXT NOT NULL DEFAULT '',
    final_mobile_called_party_number TEXT NOT NULL DEFAULT '',
    mobile_call_type BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX cdrs_global_call_id ON cdrs (global_call_id);
CREATE INDEX cdrs_origination ON cdrs (date_time_origination);
