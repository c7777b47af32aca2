-- When the player was last seen (a login, or a session validated: the gateway revalidates every
-- WebSocket's session at each ping), for "online" in the admin tools. NULL: never since this column.
ALTER TABLE players ADD COLUMN last_seen_at timestamptz;
