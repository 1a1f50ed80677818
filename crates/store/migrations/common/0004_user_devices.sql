-- The devices a user is associated with besides the ones they own (SPEC §3: a CTI user
-- controls only devices it owns or is associated with), in the order they were given.
CREATE TABLE user_devices (
    user_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    device TEXT NOT NULL,
    PRIMARY KEY (user_id, position)
);
