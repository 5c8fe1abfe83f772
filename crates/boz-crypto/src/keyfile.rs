//! The development key file: when `ENCRYPTION_KEY` is unset outside production, a master key is
//! generated once into a file beside the database (mode 0600) so `boz run` works on a fresh
//! machine. Production refuses to start without `ENCRYPTION_KEY` (see `boz-common::config`).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::vault::{KeyVault, generate_master_key};

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write key file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {path} does not hold a valid key: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("key file {path} is readable by other users (mode {mode:o}); run chmod 600 on it")]
    Permissions { path: PathBuf, mode: u32 },
}

/// Where the development key lives for a SQLite database file (`<file>.key`), or for other
/// databases in the working directory (`boz-encryption.key`).
pub fn dev_key_path(sqlite_file: Option<&Path>) -> PathBuf {
    match sqlite_file {
        Some(db) => {
            let mut p = db.as_os_str().to_owned();
            p.push(".key");
            PathBuf::from(p)
        }
        None => PathBuf::from("boz-encryption.key"),
    }
}

/// Reads the key in `path`, or generates one there. Returns the key and whether it was created.
pub fn load_or_create(path: &Path) -> Result<(Zeroizing<String>, bool), KeyFileError> {
    if path.exists() {
        return read(path).map(|k| (k, false));
    }
    let key = generate_master_key().map_err(|e| KeyFileError::Invalid {
        path: path.into(),
        reason: e.to_string(),
    })?;
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| KeyFileError::Write {
            path: path.into(),
            source,
        })?;
    f.write_all(format!("{}\n", &*key).as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|source| KeyFileError::Write {
            path: path.into(),
            source,
        })?;
    Ok((key, true))
}

/// Reads and checks a key file (mode must not let other users read it).
pub fn read(path: &Path) -> Result<Zeroizing<String>, KeyFileError> {
    let meta = fs::metadata(path).map_err(|source| KeyFileError::Read {
        path: path.into(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::Permissions {
            path: path.into(),
            mode,
        });
    }
    let text = Zeroizing::new(
        fs::read_to_string(path).map_err(|source| KeyFileError::Read {
            path: path.into(),
            source,
        })?,
    );
    let key = Zeroizing::new(text.trim().to_string());
    KeyVault::new(&key).map_err(|e| KeyFileError::Invalid {
        path: path.into(),
        reason: e.to_string(),
    })?;
    Ok(key)
}

/// Replaces the key in `path` atomically (write a temporary file, then rename), mode 0600.
pub fn replace(path: &Path, key: &str) -> Result<(), KeyFileError> {
    let tmp = path.with_extension("key.tmp");
    let write = || -> std::io::Result<()> {
        let _ = fs::remove_file(&tmp);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(format!("{key}\n").as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    };
    write().map_err(|source| KeyFileError::Write {
        path: path.into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_with_mode_0600_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dev_key_path(Some(&dir.path().join("boz.sqlite")));
        assert!(path.ends_with("boz.sqlite.key"));
        let (k1, created) = load_or_create(&path).unwrap();
        assert!(created);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (k2, created) = load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(*k1, *k2);
        KeyVault::new(&k2).unwrap();
    }

    #[test]
    fn loose_permissions_and_junk_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.key");
        load_or_create(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(read(&path), Err(KeyFileError::Permissions { .. })));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, "junk").unwrap();
        assert!(matches!(read(&path), Err(KeyFileError::Invalid { .. })));
        let new = generate_master_key().unwrap();
        replace(&path, &new).unwrap();
        assert_eq!(*read(&path).unwrap(), *new);
    }
}
