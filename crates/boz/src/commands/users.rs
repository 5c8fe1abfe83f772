//! `boz user add | list | set-password | token`: sign-in accounts and personal API tokens.
//! Passwords and tokens are printed once and stored only as hashes (Argon2id for passwords,
//! SHA-256 for tokens).

use std::io::Read;

use anyhow::{Context, Result, bail};
use boz_common::ports::{ApiToken, Login};
use boz_crypto::password::{hash_password, one_time_password};
use boz_crypto::token::{hash_secret, new_secret};

use crate::setup;

/// A login name: 1-64 of letters, digits, `.`, `_`, `-`.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        bail!("invalid name {name:?}: use 1-64 letters, digits, '.', '_' or '-'");
    }
    Ok(())
}

pub async fn add(name: &str, admin: bool) -> Result<()> {
    check_name(name)?;
    let settings = setup::settings()?;
    let db = setup::database(&settings).await?;
    db.migrate().await?;
    let store = db.store();
    let password = one_time_password()?;
    let user = boz_engine::services::new_user(name, &settings)?;
    let now = user.created_at;
    let result = store
        .create_login(
            &user,
            &Login {
                username: name.to_string(),
                user_id: name.to_string(),
                password_hash: hash_password(&password)?,
                role: if admin { "admin" } else { "user" }.into(),
                must_change_password: true,
                created_at: now,
            },
        )
        .await;
    db.close().await;
    result?;
    println!(
        "Created {} {name} with the one-time password: {password}\nIt is shown only this once; it must be changed at first sign-in.",
        if admin { "admin" } else { "user" }
    );
    Ok(())
}

pub async fn list() -> Result<()> {
    let settings = setup::settings()?;
    let db = setup::database(&settings).await?;
    db.migrate().await?;
    let logins = db.store().list_logins().await;
    db.close().await;
    let logins = logins?;
    println!(
        "{:<20} {:<20} {:<6} must change password",
        "login", "user", "role"
    );
    for l in &logins {
        println!(
            "{:<20} {:<20} {:<6} {}",
            l.username,
            l.user_id,
            l.role,
            if l.must_change_password { "yes" } else { "no" }
        );
    }
    if logins.is_empty() {
        println!("No logins yet (`boz run` creates `admin` at first start; `boz user add NAME`).");
    }
    Ok(())
}

pub async fn set_password(name: &str, generate: bool) -> Result<()> {
    let (password, must_change) = if generate {
        (one_time_password()?, true)
    } else {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the new password from standard input")?;
        let p = text.trim_end_matches(['\n', '\r']).to_string();
        if let Err(reason) = boz_api::auth::check_new_password(&p) {
            bail!("invalid password: {reason}");
        }
        (p, false)
    };
    let settings = setup::settings()?;
    let db = setup::database(&settings).await?;
    db.migrate().await?;
    let result = db
        .store()
        .set_password(name, &hash_password(&password)?, must_change)
        .await;
    db.close().await;
    result?;
    if generate {
        println!(
            "New one-time password for {name}: {password}\nIt is shown only this once; it must be changed at first sign-in."
        );
    } else {
        println!("Password of {name} changed; its sessions have ended.");
    }
    Ok(())
}

pub async fn token(name: &str, label: &str) -> Result<()> {
    let settings = setup::settings()?;
    let db = setup::database(&settings).await?;
    db.migrate().await?;
    let store = db.store();
    let result = async {
        let login = store
            .get_login(name)
            .await?
            .with_context(|| format!("no login {name}"))?;
        let token = new_secret("boz_")?;
        store
            .create_token(&ApiToken {
                id: uuid::Uuid::new_v4().to_string(),
                user_id: login.user_id.clone(),
                name: label.to_string(),
                token_hash: hash_secret(&token),
                created_at: chrono::Utc::now(),
                last_used_at: None,
            })
            .await?;
        anyhow::Ok((login, token))
    }
    .await;
    db.close().await;
    let (login, token) = result?;
    println!(
        "API token {label:?} for user {}: {token}\nIt is shown only this once; send it as `Authorization: Bearer <token>`.",
        login.user_id
    );
    Ok(())
}
