
CREATE TABLE published_profiles (
    region_id    TEXT NOT NULL,
    version      INTEGER NOT NULL,
    signed       TEXT NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (region_id, version)
) STRICT;
