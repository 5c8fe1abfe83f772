-- Trading (issue 6): daily risk accounting, the trading state, orders stored before they are
-- sent, and the manual approval queue. Money and counts are exact decimal text, as in `trades`.
CREATE TABLE risk_days (
    user_id TEXT NOT NULL REFERENCES users (id),
    trading_day TEXT NOT NULL,
    exposure TEXT NOT NULL DEFAULT '0',
    realized_pnl TEXT NOT NULL DEFAULT '0',
    PRIMARY KEY (user_id, trading_day)
);

CREATE TABLE risk_state (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    state TEXT NOT NULL DEFAULT 'ACTIVE' CHECK (state IN ('ACTIVE', 'REDUCING', 'HALTED')),
    reason TEXT,
    changed_by TEXT,
    changed_at TEXT,
    consecutive_losses INTEGER NOT NULL DEFAULT 0,
    last_loss_at TEXT
);

CREATE TABLE orders (
    client_order_id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    trade_id TEXT NOT NULL REFERENCES trades (id),
    ticker TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('yes', 'no')),
    price TEXT NOT NULL,
    count TEXT NOT NULL,
    time_in_force TEXT NOT NULL,
    trading_day TEXT NOT NULL,
    reserved TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN
        ('new', 'unknown', 'resting', 'executed', 'canceled', 'rejected')),
    exchange_order_id TEXT,
    filled TEXT NOT NULL DEFAULT '0',
    fill_cost TEXT NOT NULL DEFAULT '0',
    fees TEXT NOT NULL DEFAULT '0',
    close_time TEXT,
    detail TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX ix_orders_status ON orders (status);
CREATE INDEX ix_orders_user_id_trading_day ON orders (user_id, trading_day);

CREATE TABLE trade_approvals (
    trade_id TEXT PRIMARY KEY NOT NULL REFERENCES trades (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    pending TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    reason TEXT
);
CREATE INDEX ix_trade_approvals_user_id ON trade_approvals (user_id);
