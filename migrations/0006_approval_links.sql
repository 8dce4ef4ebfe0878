-- Signed one-click approval links are single use: each redeemed link's nonce is kept
-- until the link has expired (after that its signature check refuses it anyway).
CREATE TABLE approval_link_uses (
  nonce       TEXT PRIMARY KEY,
  build_id    TEXT NOT NULL,
  gate        TEXT NOT NULL,
  decision    TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
  expires_at  INTEGER NOT NULL,        -- unix seconds, the link's own expiry
  used_at     TEXT NOT NULL
);
CREATE INDEX approval_link_uses_expiry ON approval_link_uses (expires_at);
