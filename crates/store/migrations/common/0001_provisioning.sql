-- Provisioning model of SPEC.md §1, one file for SQLite and PostgreSQL. Booleans are BIGINT 0/1
-- and times epoch milliseconds so that the same statements run on both. Cross-object rules (limits, number
-- equivalence, references) are enforced by the store before a write; the unique indexes below
-- are the cluster-wide backstop when two nodes write at once.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    mobility_enabled BIGINT NOT NULL DEFAULT 0,
    cti_enabled BIGINT NOT NULL DEFAULT 0,
    max_remote_destinations BIGINT NOT NULL DEFAULT 4 CHECK (max_remote_destinations BETWEEN 0 AND 10),
    admin BIGINT NOT NULL DEFAULT 0,
    password_hash TEXT
);

CREATE TABLE partitions (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE css (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE css_members (
    css TEXT NOT NULL,
    position BIGINT NOT NULL,
    partition TEXT NOT NULL,
    PRIMARY KEY (css, position)
);

CREATE TABLE devices (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    owner TEXT,
    description TEXT NOT NULL DEFAULT '',
    display_name TEXT NOT NULL DEFAULT '',
    css TEXT,
    reroute_css TEXT,
    route_to_all_rds_when_none_active BIGINT NOT NULL DEFAULT 0,
    sip_username TEXT,
    sip_password TEXT
);
CREATE UNIQUE INDEX devices_sip_username ON devices (sip_username);

CREATE TABLE lines (
    partition TEXT NOT NULL,
    dn TEXT NOT NULL,
    device TEXT NOT NULL,
    position BIGINT NOT NULL CHECK (position BETWEEN 1 AND 5),
    e164 TEXT,
    directory_uri TEXT,
    display_name TEXT NOT NULL DEFAULT '',
    call_forward_all TEXT,
    dnd BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (partition, dn)
);
CREATE UNIQUE INDEX lines_device_position ON lines (device, position);

CREATE TABLE remote_destinations (
    device TEXT NOT NULL,
    name TEXT NOT NULL,
    number TEXT NOT NULL,
    number_key TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 0,
    ring_schedule TEXT,
    answer_too_soon_ms BIGINT NOT NULL DEFAULT 1500,
    answer_too_late_ms BIGINT NOT NULL DEFAULT 19000,
    delay_before_ringing_ms BIGINT NOT NULL DEFAULT 4000,
    PRIMARY KEY (device, name)
);
CREATE UNIQUE INDEX remote_destinations_number_key ON remote_destinations (number_key);

CREATE TABLE trunks (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    peer TEXT NOT NULL,
    did TEXT,
    hunting TEXT NOT NULL DEFAULT 'ascending',
    channels BIGINT,
    inbound_css TEXT,
    cause_map TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE route_groups (
    name TEXT PRIMARY KEY,
    distribution TEXT NOT NULL DEFAULT 'top_down'
);

CREATE TABLE route_group_members (
    route_group TEXT NOT NULL,
    position BIGINT NOT NULL,
    trunk TEXT NOT NULL,
    PRIMARY KEY (route_group, position)
);

CREATE TABLE route_lists (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE route_list_members (
    route_list TEXT NOT NULL,
    position BIGINT NOT NULL,
    route_group TEXT NOT NULL,
    PRIMARY KEY (route_list, position)
);

CREATE TABLE patterns (
    partition TEXT NOT NULL,
    pattern TEXT NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    route_list TEXT,
    css TEXT,
    called_discard_predot BIGINT NOT NULL DEFAULT 0,
    called_prefix TEXT NOT NULL DEFAULT '',
    called_mask TEXT,
    calling_prefix TEXT NOT NULL DEFAULT '',
    calling_mask TEXT,
    PRIMARY KEY (partition, pattern)
);

CREATE TABLE dial_rules (
    name TEXT PRIMARY KEY,
    begins_with TEXT NOT NULL DEFAULT '',
    num_digits BIGINT,
    digits_to_remove BIGINT NOT NULL DEFAULT 0,
    prefix TEXT NOT NULL DEFAULT '',
    priority BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE announcements (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    file TEXT NOT NULL
);
