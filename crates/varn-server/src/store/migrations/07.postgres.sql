
CREATE TABLE published_profiles (
    region_id    TEXT NOT NULL,
    version      BIGINT NOT NULL,
    signed       TEXT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (region_id, version)
);
