-- Named connections to live databases. No secret is ever stored here: the
-- URL has its password stripped, and the password lives in the OS keychain
-- (`password_source = 'keychain'`) or in the environment variable named by
-- `password_env` (`password_source = 'env'`).

CREATE TABLE connections (
    name            TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL,
    url             TEXT NOT NULL,
    password_source TEXT NOT NULL CHECK (password_source IN ('none', 'env', 'keychain')),
    password_env    TEXT,
    created_at      TEXT NOT NULL
);
