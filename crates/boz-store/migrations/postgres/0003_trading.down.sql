DROP TABLE trade_approvals;
DROP TABLE orders;
DROP TABLE risk_state;
DROP TABLE risk_days;
