//! `boz keygen` and `boz keys rotate`.

use std::path::Path;

use anyhow::{Context, Result, bail};
use boz_crypto::{KeyVault, generate_master_key, keyfile};
use zeroize::Zeroizing;

use crate::setup::{self, KeySource};

/// Prints a new master key.
pub fn keygen() -> Result<()> {
    let key = generate_master_key()?;
    println!("{}", &*key);
    Ok(())
}

/// Re-encrypts every stored key under a new master key, in one transaction.
///
/// Order matters so a key can never be lost: every stored key is decrypted first (any failure
/// stops before anything changes); the new master key is saved (or printed) before the database
/// commit; the development key file is swapped only after the commit.
pub async fn rotate(new_key_file: Option<&Path>) -> Result<()> {
    let settings = setup::settings()?;
    let current = setup::master_key(&settings)?;
    let old = KeyVault::new(&current.text).context("invalid current ENCRYPTION_KEY")?;
    let (new_text, generated) = match new_key_file {
        Some(path) => {
            let text = Zeroizing::new(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            );
            (Zeroizing::new(text.trim().to_string()), false)
        }
        None => (generate_master_key()?, true),
    };
    let new = KeyVault::new(&new_text).context("invalid new master key")?;

    let db = setup::database(&settings).await?;
    let store = db.store();
    let users = store.list_users().await?;
    let mut changes = Vec::with_capacity(users.len());
    let mut legacy = 0;
    for u in &users {
        let plain = old
            .decrypt(&u.id, &u.encrypted_private_key)
            .with_context(|| {
                format!(
                    "cannot decrypt the stored key of user {}; nothing was changed",
                    u.id
                )
            })?;
        if KeyVault::is_legacy(&u.encrypted_private_key) {
            legacy += 1;
        }
        let token = new.encrypt(&u.id, &plain)?;
        changes.push((u.id.clone(), u.encrypted_private_key.clone(), token));
    }

    let pending_file = match &current.source {
        KeySource::DevFile { path, .. } => {
            let next = path.with_extension("key.next");
            keyfile::replace(&next, &new_text)?;
            Some((next, path.clone()))
        }
        KeySource::Environment if generated => {
            println!("New ENCRYPTION_KEY (shown once; store it now):");
            println!("{}", &*new_text);
            None
        }
        KeySource::Environment => None,
    };

    if let Err(e) = store.replace_encrypted_keys(&changes).await {
        if let Some((next, _)) = &pending_file {
            let _ = std::fs::remove_file(next);
        }
        db.close().await;
        bail!("re-encryption failed, nothing was changed: {e}");
    }
    if let Some((next, path)) = pending_file {
        std::fs::rename(&next, &path).with_context(|| {
            format!(
                "keys were re-encrypted but {} could not replace {}; move it there by hand",
                next.display(),
                path.display()
            )
        })?;
        println!("Replaced the development key file {}.", path.display());
    }
    println!(
        "Re-encrypted {} stored keys ({legacy} legacy Fernet tokens converted) under key id {}.",
        changes.len(),
        new.key_id()
    );
    if matches!(current.source, KeySource::Environment) {
        println!("Set ENCRYPTION_KEY to the new key before the next start.");
    }
    db.close().await;
    Ok(())
}
