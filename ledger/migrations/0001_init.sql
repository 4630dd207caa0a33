-- ledgerd schema, version 1.
-- Tenant isolation is enforced by the schema too: lines reference their entry
-- and their account through composite keys that include tenant_id, so a line
-- cannot join an entry or an account of another tenant while the foreign
-- keys are in force. CheckIntegrity verifies it anyway.
CREATE TABLE ledger.tenants (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9_-]{1,64}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ledger.accounts (
    id         bigserial PRIMARY KEY,
    tenant_id  bigint NOT NULL REFERENCES ledger.tenants (id),
    name       text NOT NULL CHECK (name ~ '^[a-z0-9_-]{1,64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name),
    UNIQUE (tenant_id, id)
);

CREATE TABLE ledger.entries (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES ledger.tenants (id),
    description text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);

CREATE TABLE ledger.entry_lines (
    id         bigserial PRIMARY KEY,
    entry_id   bigint NOT NULL,
    line_no    int NOT NULL,
    tenant_id  bigint NOT NULL,
    account_id bigint NOT NULL,
    amount     bigint NOT NULL CHECK (amount <> 0),
    UNIQUE (entry_id, line_no),
    FOREIGN KEY (tenant_id, entry_id) REFERENCES ledger.entries (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES ledger.accounts (tenant_id, id)
);

CREATE INDEX entry_lines_account ON ledger.entry_lines (tenant_id, account_id) INCLUDE (amount, entry_id);
