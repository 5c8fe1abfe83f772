//! `boz db migrate | status | revert`.

use anyhow::Result;
use boz_store::MigrationState;

use crate::setup;

pub async fn migrate() -> Result<()> {
    let settings = setup::settings()?;
    let db = setup::database(&settings).await?;
    let applied = db.migrate().await?;
    if applied.is_empty() {
        println!(
            "Database is up to date ({}).",
            settings.database_url.redacted()
        );
    } else {
        for v in applied {
            println!("Applied migration {v}.");
        }
    }
    db.close().await;
    Ok(())
}

pub async fn status() -> Result<()> {
    let settings = setup::settings()?;
    let db = setup::database(&settings).await?;
    println!("Database: {}", settings.database_url.redacted());
    for m in db.status().await? {
        let state = match m.state {
            MigrationState::Applied => "applied",
            MigrationState::Pending => "pending",
        };
        println!("  {:>4}  {:<8} {}", m.version, state, m.description);
    }
    db.close().await;
    Ok(())
}

pub async fn revert() -> Result<()> {
    let settings = setup::settings()?;
    let db = setup::database(&settings).await?;
    match db.revert().await? {
        Some(v) => println!("Reverted migration {v}."),
        None => println!("No migration is applied; nothing to revert."),
    }
    db.close().await;
    Ok(())
}
