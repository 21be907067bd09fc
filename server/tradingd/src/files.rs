//! The daemon's files are its user's only: the data directory and the bot logs under it are
//! created `0700`, their files `0600` (the database makes itself private in `store`).

use std::{io, path::Path};

/// Creates `dir` and its missing parents, each readable by the owner only.
///
/// # Errors
/// When a directory cannot be created.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Takes group and others' access from every directory and file under `dir` (and `dir`
/// itself): logs written by an older version, or copied in, become private too.
///
/// # Errors
/// When the tree cannot be read or a permission cannot be changed.
#[cfg(unix)]
pub(crate) fn make_private_tree(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::symlink_metadata(dir)?;
    if metadata.is_dir() {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        for entry in std::fs::read_dir(dir)? {
            make_private_tree(&entry?.path())?;
        }
    } else if metadata.is_file() && metadata.permissions().mode() & 0o077 != 0 {
        let mode = metadata.permissions().mode() & 0o700;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Permissions are left to the system off Unix.
#[cfg(not(unix))]
pub(crate) fn make_private_tree(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_data_directory_is_created_private_and_old_logs_are_made_private() {
        let root = tempfile::tempdir().unwrap();
        let logs = root.path().join("data/logs");
        create_private_dir(&logs).unwrap();
        assert_eq!((mode(&root.path().join("data")), mode(&logs)), (0o700, 0o700));

        let bot = logs.join("7");
        std::fs::create_dir(&bot).unwrap();
        std::fs::set_permissions(&bot, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(bot.join("orders.log"), "x\n").unwrap();
        std::fs::set_permissions(bot.join("orders.log"), std::fs::Permissions::from_mode(0o644)).unwrap();
        make_private_tree(&logs).unwrap();
        assert_eq!((mode(&bot), mode(&bot.join("orders.log"))), (0o700, 0o600));
    }
}
