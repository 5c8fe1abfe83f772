-- Trading (issue 6): daily risk accounting, the trading state, orders stored before they are
-- sent, and the manual approval queue. Money and counts are NUMERIC, as in `trades`.
CREATE TABLE risk_days (
    user_id TEXT NOT NULL REFERENCES users (id),
    trading_day DATE NOT NULL,
    exposure NUMERIC(20, 6) NOT NULL DEFAULT 0,
    realized_pnl NUMERIC(20, 6) NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, trading_day)
);

CREATE TABLE risk_state (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    state TEXT NOT NULL DEFAULT 'ACTIVE' CHECK (state IN ('ACTIVE', 'REDUCING', 'HALTED')),
    reason TEXT,
    changed_by TEXT,
    changed_at TIMESTAMPTZ,
    consecutive_losses BIGINT NOT NULL DEFAULT 0,
    last_loss_at TIMESTAMPTZ
);

CREATE TABLE orders (
    client_order_id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    trade_id TEXT NOT NULL REFERENCES trades (id),
    ticker TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('yes', 'no')),
    price NUMERIC(20, 6) NOT NULL,
    count NUMERIC(20, 6) NOT NULL,
    time_in_force TEXT NOT NULL,
    trading_day DATE NOT NULL,
    reserved NUMERIC(20, 6) NOT NULL,
    status TEXT NOT NULL CHECK (status IN
        ('new', 'unknown', 'resting', 'executed', 'canceled', 'rejected')),
    exchange_order_id TEXT,
    filled NUMERIC(20, 6) NOT NULL DEFAULT 0,
    fill_cost NUMERIC(20, 6) NOT NULL DEFAULT 0,
    fees NUMERIC(20, 6) NOT NULL DEFAULT 0,
    close_time TIMESTAMPTZ,
    detail TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX ix_orders_status ON orders (status);
CREATE INDEX ix_orders_user_id_trading_day ON orders (user_id, trading_day);

CREATE TABLE trade_approvals (
    trade_id TEXT PRIMARY KEY NOT NULL REFERENCES trades (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    pending JSONB NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    decided_by TEXT,
    decided_at TIMESTAMPTZ,
    reason TEXT
);
CREATE INDEX ix_trade_approvals_user_id ON trade_approvals (user_id);
