-- One row counting committed provisioning writes. Every write batch bumps it in its own
-- transaction only if it still holds the value the writer checked its rules against, so two
-- nodes sharing one database never commit on top of data they did not see; and nodes notice
-- each other's writes by polling it.
CREATE TABLE provisioning_version (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO provisioning_version (id, version) VALUES (1, 0);
