-- Who a user is at an identity provider: the OIDC `sub` (or an OAuth2 provider's user id) of
-- each provider that signed them in. A user may have several; a provider's subject is one user.
CREATE TABLE user_identity (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created TEXT NOT NULL,
    last_login TEXT NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX user_identity_user ON user_identity (user_id);

-- Memberships that a provider's groups claim made (its id), re-read at every sign-in; NULL for
-- those an admin made, which sign-ins leave alone.
ALTER TABLE group_member ADD COLUMN provider TEXT;

-- Groups a provider's groups claim made (its id): only these does a sign-in join or leave, so
-- a group someone made here under the same name gathers nobody.
ALTER TABLE user_group ADD COLUMN provider TEXT;
