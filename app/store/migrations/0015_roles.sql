-- Roles one replica at a time plays (the periodic housekeeping): the
-- holder renews expires_at; once it lapses another replica may take it.
CREATE TABLE replica_roles (
    name       TEXT   NOT NULL PRIMARY KEY,
    owner      TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
