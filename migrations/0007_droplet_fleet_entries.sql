-- The droplet's entry in the fleet registry (embedded or REGISTRY_URL): its id there and the
-- registration the fleet last accepted, so a heartbeat answered 404 (the entry expired, or
-- the registry lost it) registers the droplet again exactly as it was. NULL when the droplet
-- has no fleet entry (never deployed, or undeployed).
ALTER TABLE droplets ADD COLUMN fleet_entry_id INTEGER;
ALTER TABLE droplets ADD COLUMN fleet_registration TEXT;   -- JSON ServiceRegistration
-- The entry's token (see domain/ports/fleet-registry.ts): the credential that proves the
-- entry is this droplet's when the executor re-registers, heartbeats or deregisters it.
-- Kept as-is only because the executor must present it; never logged, shown or evented.
-- Chosen before the first registration is sent, so a registration retried after a lost
-- answer (or a crash) presents the same token.
ALTER TABLE droplets ADD COLUMN fleet_entry_token TEXT;
