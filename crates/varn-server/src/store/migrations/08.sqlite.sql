
CREATE TABLE app_releases (
    version      TEXT NOT NULL,
    platform     TEXT NOT NULL,
    notes        TEXT NOT NULL,
    signature    TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    bundle       BLOB NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (version, platform)
) STRICT;
