
CREATE TABLE app_releases (
    version      TEXT NOT NULL,
    platform     TEXT NOT NULL,
    notes        TEXT NOT NULL,
    signature    TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    bundle       BYTEA NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (version, platform)
);
