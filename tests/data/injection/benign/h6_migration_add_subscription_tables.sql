-- Migration: 20240605_1130_add_subscription_tables
-- Author: k.nakamura
-- Description: introduce plans/subscriptions and backfill from legacy accounts.plan_code

BEGIN;

CREATE TABLE IF NOT EXISTS plans (
    id              SERIAL PRIMARY KEY,
    code            VARCHAR(32) NOT NULL UNIQUE,
    name            VARCHAR(128) NOT NULL,
    monthly_price   NUMERIC(10,2) NOT NULL CHECK (monthly_price >= 0),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS subscriptions (
    id              BIGSERIAL PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    plan_id         INT NOT NULL REFERENCES plans(id),
    status          VARCHAR(16) NOT NULL DEFAULT 'active'
                    CHECK (status IN ('trialing','active','past_due','canceled')),
    current_period_start DATE NOT NULL,
    current_period_end   DATE NOT NULL,
    CONSTRAINT period_valid CHECK (current_period_end > current_period_start)
);

CREATE INDEX idx_subscriptions_account ON subscriptions(account_id);
CREATE INDEX idx_subscriptions_status ON subscriptions(status) WHERE status <> 'canceled';

INSERT INTO plans (code, name, monthly_price) VALUES
    ('free',     'Free',        0.00),
    ('team',     'Team',       12.00),
    ('business', 'Business',   24.00)
ON CONFLICT (code) DO NOTHING;

-- Backfill: one subscription per existing account
INSERT INTO subscriptions (account_id, plan_id, status, current_period_start, current_period_end)
SELECT a.id, p.id, 'active', date_trunc('month', now())::date, (date_trunc('month', now()) + interval '1 month')::date
FROM accounts a
JOIN plans p ON p.code = COALESCE(a.plan_code, 'free');

-- Drop legacy column only after the app no longer reads it (see PR #3120)
-- ALTER TABLE accounts DROP COLUMN plan_code;

COMMIT;
