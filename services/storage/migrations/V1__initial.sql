-- Galaxy's initial schema: accounts, sessions, ships, snapshots, game configuration, admin audit
-- and the tick log. Every rule a row must follow is a named constraint, so the repository can say
-- which rule a rejected value broke. Applied once by refinery; never edit an applied migration,
-- add V2__... instead.

CREATE TABLE players (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text        NOT NULL,
    password_hash text        NOT NULL,
    role          text        NOT NULL DEFAULT 'player',
    banned        boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT players_username_format CHECK (username ~ '^[a-zA-Z0-9_]{3,20}$'),
    CONSTRAINT players_password_hash_argon2id CHECK (password_hash LIKE '$argon2id$%'),
    CONSTRAINT players_role_known CHECK (role IN ('player', 'admin'))
);
-- Unique ignoring case, so "Alice" cannot pose as "alice".
CREATE UNIQUE INDEX players_username_unique ON players (lower(username));

CREATE TABLE sessions (
    token_hash bytea       PRIMARY KEY,
    player_id  bigint      NOT NULL REFERENCES players (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked    boolean     NOT NULL DEFAULT false,
    -- A hash (SHA-256 is 32 bytes), never a raw token of a guessable length.
    CONSTRAINT sessions_token_hash_length CHECK (octet_length(token_hash) BETWEEN 16 AND 64)
);
CREATE INDEX sessions_player_id ON sessions (player_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE ships (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id   bigint      NOT NULL REFERENCES players (id) ON DELETE CASCADE,
    class_name text        NOT NULL,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ships_class_name_format CHECK (class_name ~ '^[a-z0-9_]{1,64}$'),
    CONSTRAINT ships_name_length CHECK (char_length(name) BETWEEN 1 AND 64)
);
CREATE INDEX ships_owner_id ON ships (owner_id);

CREATE TABLE snapshots (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tick            bigint           NOT NULL,
    game_time       double precision NOT NULL,
    engine_snapshot bytea            NOT NULL,
    checksum        text             NOT NULL,
    created_at      timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT snapshots_tick_non_negative CHECK (tick >= 0),
    -- PostgreSQL orders NaN above +Infinity, so this also keeps NaN out.
    CONSTRAINT snapshots_game_time_finite CHECK (game_time > '-Infinity' AND game_time < 'Infinity'),
    CONSTRAINT snapshots_engine_snapshot_not_empty CHECK (octet_length(engine_snapshot) > 0),
    CONSTRAINT snapshots_checksum_length CHECK (char_length(checksum) BETWEEN 1 AND 128)
);
CREATE INDEX snapshots_tick ON snapshots (tick);

-- Exactly one row: the primary key can only be true.
CREATE TABLE game_config (
    id                 boolean          PRIMARY KEY DEFAULT true,
    tick_rate_hz       double precision NOT NULL,
    time_scale         double precision NOT NULL,
    registrations_open boolean          NOT NULL,
    updated_at         timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT game_config_single_row CHECK (id),
    -- BETWEEN is false for NaN, so NaN is rejected too.
    CONSTRAINT game_config_tick_rate_range CHECK (tick_rate_hz BETWEEN 0.1 AND 100),
    CONSTRAINT game_config_time_scale_range CHECK (time_scale BETWEEN 0.1 AND 100)
);
INSERT INTO game_config (tick_rate_hz, time_scale, registrations_open) VALUES (1, 1, true);

CREATE TABLE admin_audit (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- RESTRICT: an admin with audit entries cannot be deleted, so the trail survives.
    admin_id   bigint      NOT NULL REFERENCES players (id) ON DELETE RESTRICT,
    action     text        NOT NULL,
    details    jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT admin_audit_action_format CHECK (action ~ '^[a-z][a-z0-9_.]{0,63}$')
);
CREATE INDEX admin_audit_admin_id ON admin_audit (admin_id);

-- The primary key is what guarantees a tick number is never produced twice.
CREATE TABLE tick_log (
    tick        bigint           PRIMARY KEY,
    game_time   double precision NOT NULL,
    recorded_at timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT tick_log_tick_non_negative CHECK (tick >= 0),
    CONSTRAINT tick_log_game_time_finite CHECK (game_time > '-Infinity' AND game_time < 'Infinity')
);
