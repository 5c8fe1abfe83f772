//! Users' Kalshi credentials: the key id and the private key stored encrypted in `users`,
//! decrypted in memory only to build a request signer.

use std::sync::Arc;

use boz_common::error::{BozError, ErrorKind};
use boz_common::ports::Store;
use boz_crypto::{KalshiSigner, KeyVault};
use boz_kalshi::rest::Credentials;

/// The Kalshi credentials of `user_id`. Errors name the user, never the key.
pub async fn user_credentials(
    store: &dyn Store,
    vault: &KeyVault,
    user_id: &str,
) -> Result<Credentials, BozError> {
    let user = store.get_user(user_id).await?;
    let auth = |message: String| {
        BozError::new(
            ErrorKind::AuthenticationError,
            message,
            boz_common::context!("user_id" => user_id),
        )
    };
    let pem = vault
        .decrypt(&user.id, &user.encrypted_private_key)
        .map_err(|e| {
            auth(format!(
                "the stored Kalshi key of user {user_id} cannot be read: {e}"
            ))
        })?;
    let signer = KalshiSigner::from_pem(&pem).map_err(|e| {
        auth(format!(
            "the stored Kalshi key of user {user_id} is not usable: {e}"
        ))
    })?;
    Ok(Credentials {
        api_key_id: user.api_key_id,
        signer: Arc::new(signer),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use boz_common::config::DatabaseUrl;
    use boz_common::ports::StoredUser;
    use boz_store::Database;

    #[tokio::test]
    async fn credentials_come_from_the_encrypted_store() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&DatabaseUrl::Sqlite {
            path: dir.path().join("a.sqlite"),
        })
        .await
        .unwrap();
        db.migrate().await.unwrap();
        let store = db.store();
        let vault = KeyVault::new(&boz_crypto::generate_master_key().unwrap()).unwrap();
        let kp =
            aws_lc_rs::signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pem_text = pem::encode(&pem::Pem::new(
            "PRIVATE KEY",
            kp.as_der().unwrap().as_ref().to_vec(),
        ));
        for (id, token) in [
            ("alice", vault.encrypt("alice", &pem_text).unwrap()),
            ("bob", vault.encrypt("alice", &pem_text).unwrap()),
        ] {
            store
                .create_user(&StoredUser {
                    id: id.into(),
                    api_key_id: format!("key-{id}"),
                    encrypted_private_key: token,
                    settings: serde_json::json!({}),
                    created_at: chrono::Utc::now(),
                })
                .await
                .unwrap();
        }
        let c = user_credentials(store.as_ref(), &vault, "alice")
            .await
            .unwrap();
        assert_eq!(c.api_key_id, "key-alice");
        assert!(
            !c.signer
                .sign(1, "GET", "/trade-api/v2/portfolio/balance")
                .unwrap()
                .is_empty()
        );
        // Bob's row holds a token made for Alice: refused, and the key is never in the message.
        let e = user_credentials(store.as_ref(), &vault, "bob")
            .await
            .err()
            .unwrap();
        assert_eq!(e.kind, ErrorKind::AuthenticationError);
        assert!(!e.message.contains("PRIVATE KEY"));
        assert_eq!(
            user_credentials(store.as_ref(), &vault, "carol")
                .await
                .err()
                .unwrap()
                .kind,
            ErrorKind::NotFoundError
        );
        db.close().await;
    }
}
