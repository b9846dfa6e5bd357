"""subscriptions.secret_encrypted: the webhook secret encrypted at rest

Revision ID: 0002
Revises: 0001

The migration cannot encrypt the existing secrets (it has no key): it adds the ciphertext column
and lets the plaintext one be NULL. The service encrypts the plaintext rows when its dispatcher
starts (`repository.encrypt_plaintext_secrets`) and from then on writes and reads only
`secret_encrypted`. Downgrading fails (SET NOT NULL) once a plaintext secret was cleared: the
secrets cannot be decrypted without the service's key.
"""

from paysaga.platform.migrations import execute_all

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    execute_all(
        (
            "ALTER TABLE subscriptions ADD COLUMN secret_encrypted bytea",
            "ALTER TABLE subscriptions ALTER COLUMN secret DROP NOT NULL",
            # Every subscription has its secret in one form or the other, never both once encrypted.
            "ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_secret_stored"
            " CHECK (secret IS NOT NULL OR secret_encrypted IS NOT NULL)",
            "CREATE INDEX subscriptions_plaintext_secret ON subscriptions (subscription_id) WHERE secret IS NOT NULL",
        )
    )


def downgrade() -> None:
    execute_all(
        (
            "DROP INDEX subscriptions_plaintext_secret",
            "ALTER TABLE subscriptions ALTER COLUMN secret SET NOT NULL",
            "ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_secret_stored",
            "ALTER TABLE subscriptions DROP COLUMN secret_encrypted",
        )
    )
