//! Uploaded candle files, kept in the daemon's data directory under their content's SHA-256.
//!
//! This is how candles reach a backtest: a client sends a file's bytes (`UploadCandles`), the
//! daemon collects them up to a size cap, checks them with the `candles` parser and keeps them
//! as `candles/<id>.candles`, where the id is the lowercase hex SHA-256 of the bytes. A backtest
//! then names the id.
//!
//! **Invariant:** the daemon never opens a path a caller names. The only files read here are
//! `<data dir>/candles/<id>.candles`, and an id is 32 bytes parsed from exactly 64 hex digits,
//! so a caller's text never becomes part of a path.
//!
//! **Invariant:** an upload never holds more than the cap in memory: the size is checked
//! before each chunk is kept, and uploads go one at a time.
//!
//! **Invariant:** errors never quote a file's content (the `candles` errors name a position,
//! a column and a rule).

use std::{
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
    sync::Arc,
};

use domain::{candle::Candle, time::Timestamp};
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Largest upload accepted unless the daemon is told otherwise (`--max-upload-bytes`): 1 GiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 1 << 30;

/// Directory of the store inside the data directory.
pub const DIRECTORY: &str = "candles";

/// File name ending of a stored candle file.
const EXTENSION: &str = "candles";

/// File name ending of a file being written (renamed into place once complete).
const PARTIAL: &str = "partial";

/// The id of a candle file: the SHA-256 of its bytes, written as 64 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CandleId([u8; 32]);

impl CandleId {
    /// The id of `bytes`.
    #[must_use]
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }
}

impl fmt::Display for CandleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// Why a text is not a candle id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a candle file id: expected the 64 hex digits of the file's SHA-256, as UploadCandles returns")]
pub struct BadId;

impl FromStr for CandleId {
    type Err = BadId;

    /// Reads exactly 64 hex digits (either case); anything else is refused.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() != 64 {
            return Err(BadId);
        }
        let mut bytes = [0; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| BadId)?;
        Ok(Self(bytes))
    }
}

/// Why an upload or a load failed.
#[derive(Debug, thiserror::Error)]
pub enum CandleStoreError {
    /// The upload went past the cap; nothing beyond it was kept.
    #[error("the file is larger than the upload limit of {}; tradingd --max-upload-bytes raises it", limit_text(*limit))]
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
    /// The file is not a usable candle file.
    #[error(transparent)]
    Invalid(#[from] candles::Error),
    /// The file parses but holds no candles (a header alone).
    #[error("the file holds no candles")]
    NoCandles,
    /// No file with this id is stored.
    #[error("no uploaded candles with this id; upload the file first (UploadCandles)")]
    NotHeld,
    /// The store's own file could not be read or written.
    #[error("candle store: {0}")]
    Io(#[from] std::io::Error),
    /// A stored file no longer matches its id, or the parser's thread failed.
    #[error("candle store: {0}")]
    Corrupt(String),
}

/// A size limit for messages: "1 GiB (1073741824 bytes)", in the largest binary unit that
/// divides it, or just "1000 bytes".
fn limit_text(bytes: u64) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{} {unit} ({bytes} bytes)", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}

/// The bytes of one upload as they arrive, hashed on the way, never more than the cap.
#[derive(Debug)]
pub struct Upload {
    bytes: Vec<u8>,
    hasher: Sha256,
    limit: u64,
    /// Held for the upload's life: uploads go one at a time, so memory stays within one cap.
    _permit: OwnedSemaphorePermit,
}

impl Upload {
    /// Adds the next chunk.
    ///
    /// # Errors
    /// [`CandleStoreError::TooLarge`] when the chunk would take the upload past the cap; the
    /// chunk is not kept.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), CandleStoreError> {
        let size = self.size().saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        if size > self.limit {
            return Err(CandleStoreError::TooLarge { limit: self.limit });
        }
        // Grow by doubling, but never past the cap (the default doubling could reserve twice it).
        let needed = self.bytes.len() + chunk.len();
        if needed > self.bytes.capacity() {
            let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
            let target = needed.max(self.bytes.capacity().saturating_mul(2)).min(limit);
            self.bytes.reserve_exact(target - self.bytes.len());
        }
        self.hasher.update(chunk);
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// Bytes received so far.
    #[must_use]
    pub fn size(&self) -> u64 {
        u64::try_from(self.bytes.len()).unwrap_or(u64::MAX)
    }
}

/// What an upload held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The file's id.
    pub id: CandleId,
    /// Candles in the file.
    pub candles: u64,
    /// Open time of the first candle.
    pub first: Timestamp,
    /// Open time of the last candle.
    pub last: Timestamp,
    /// Size in bytes.
    pub size: u64,
    /// The store already held this content.
    pub already_held: bool,
}

/// The store of uploaded candle files.
#[derive(Debug, Clone)]
pub struct CandleStore {
    dir: PathBuf,
    limit: u64,
    /// One permit: one upload at a time.
    uploads: Arc<Semaphore>,
}

impl CandleStore {
    /// The store in `data_dir/candles`, accepting uploads of at most `limit` bytes. Creates
    /// the directory and removes files a previous run left half-written.
    ///
    /// # Errors
    /// When the directory cannot be created or listed.
    pub fn open(data_dir: &Path, limit: u64) -> std::io::Result<Self> {
        let dir = data_dir.join(DIRECTORY);
        std::fs::create_dir_all(&dir)?;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == PARTIAL) {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(Self { dir, limit, uploads: Arc::new(Semaphore::new(1)) })
    }

    /// The upload cap in bytes.
    #[must_use]
    pub const fn limit(&self) -> u64 {
        self.limit
    }

    /// Starts an upload, waiting while another one is under way.
    ///
    /// # Errors
    /// [`CandleStoreError::Corrupt`] only if the store's semaphore were closed (it never is).
    pub async fn begin(&self) -> Result<Upload, CandleStoreError> {
        let permit =
            Arc::clone(&self.uploads).acquire_owned().await.map_err(|e| CandleStoreError::Corrupt(e.to_string()))?;
        Ok(Upload { bytes: Vec::new(), hasher: Sha256::new(), limit: self.limit, _permit: permit })
    }

    fn path(&self, id: CandleId) -> PathBuf {
        self.dir.join(format!("{id}.{EXTENSION}"))
    }

    /// Checks a complete upload and keeps it (once per content).
    ///
    /// # Errors
    /// [`CandleStoreError::Invalid`] or [`CandleStoreError::NoCandles`] for a bad file (nothing is
    /// kept); [`CandleStoreError::Io`] when it cannot be written.
    pub async fn finish(&self, upload: Upload) -> Result<Summary, CandleStoreError> {
        let Upload { bytes, hasher, .. } = upload;
        let id = CandleId(hasher.finalize().into());
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        let (bytes, summary) = tokio::task::spawn_blocking(move || {
            let summary = summarise(&bytes);
            (bytes, summary)
        })
        .await
        .map_err(|e| CandleStoreError::Corrupt(e.to_string()))?;
        let (candles, first, last) = summary?;
        let path = self.path(id);
        let already_held = tokio::fs::try_exists(&path).await?;
        if !already_held {
            // Written aside and renamed, so a stored file is always complete.
            let partial = path.with_extension(PARTIAL);
            tokio::fs::write(&partial, &bytes).await?;
            tokio::fs::rename(&partial, &path).await?;
        }
        Ok(Summary { id, candles, first, last, size, already_held })
    }

    /// Whether the store holds the file of `id`.
    ///
    /// # Errors
    /// [`CandleStoreError::Io`] when the directory cannot be read.
    pub async fn holds(&self, id: CandleId) -> Result<bool, CandleStoreError> {
        Ok(tokio::fs::try_exists(self.path(id)).await?)
    }

    /// The candles of `id`.
    ///
    /// # Errors
    /// [`CandleStoreError::NotHeld`] when no such file was uploaded; [`CandleStoreError::Corrupt`]
    /// when the stored file no longer matches its id or parses no more; [`CandleStoreError::Io`].
    pub async fn load(&self, id: CandleId) -> Result<Vec<Candle>, CandleStoreError> {
        let bytes = match tokio::fs::read(self.path(id)).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(CandleStoreError::NotHeld),
            Err(e) => return Err(e.into()),
        };
        tokio::task::spawn_blocking(move || {
            if CandleId::of(&bytes) != id {
                return Err(CandleStoreError::Corrupt(format!("the stored file of {id} no longer matches its id")));
            }
            candles::parse(&bytes).map_err(|e| CandleStoreError::Corrupt(format!("the stored file of {id}: {e}")))
        })
        .await
        .map_err(|e| CandleStoreError::Corrupt(e.to_string()))?
    }
}

/// Parses a file for its summary: how many candles, the first and last open times.
fn summarise(bytes: &[u8]) -> Result<(u64, Timestamp, Timestamp), CandleStoreError> {
    let candles = candles::parse(bytes)?;
    match (candles.first(), candles.last()) {
        (Some(first), Some(last)) => {
            Ok((u64::try_from(candles.len()).unwrap_or(u64::MAX), first.open_time, last.open_time))
        }
        _ => Err(CandleStoreError::NoCandles),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &[u8] = b"open_time_ms,open,high,low,close,volume\n60000,1,2,1,2,5\n120000,2,2,1,1,0\n";

    #[test]
    fn an_id_is_the_sha256_of_the_bytes_in_lowercase_hex() {
        let empty = CandleId::of(b"");
        assert_eq!(empty.to_string(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let id = CandleId::of(FILE);
        assert_eq!(id.to_string().parse::<CandleId>(), Ok(id));
        assert_eq!(id.to_string().to_uppercase().parse::<CandleId>(), Ok(id));
    }

    #[test]
    fn only_64_hex_digits_are_an_id() {
        let id = CandleId::of(FILE).to_string();
        for text in
            ["", "../../etc/passwd", "/proc/self/environ", &id[..63], &format!("{id}0"), &format!("{}g", &id[..63])]
        {
            assert_eq!(text.parse::<CandleId>(), Err(BadId), "{text}");
        }
        // Multi-byte text of the right length in bytes is no exception.
        assert_eq!("é".repeat(32).parse::<CandleId>(), Err(BadId));
    }

    #[tokio::test]
    async fn an_upload_stops_at_the_cap_and_keeps_nothing_beyond_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = CandleStore::open(dir.path(), 10).unwrap();
        let mut upload = store.begin().await.unwrap();
        upload.push(b"0123456789").unwrap();
        let error = upload.push(b"x").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the file is larger than the upload limit of 10 bytes; tradingd --max-upload-bytes raises it"
        );
        assert_eq!(upload.size(), 10);
        assert!(upload.bytes.capacity() <= 10, "{}", upload.bytes.capacity());
        assert_eq!(limit_text(DEFAULT_MAX_UPLOAD_BYTES), "1 GiB (1073741824 bytes)");
        assert_eq!(limit_text(3 << 19), "1536 KiB (1572864 bytes)");
    }

    #[tokio::test]
    async fn an_upload_is_kept_once_under_its_id_and_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = CandleStore::open(dir.path(), 1 << 20).unwrap();
        let id = CandleId::of(FILE);
        assert!(!store.holds(id).await.unwrap());
        assert!(matches!(store.load(id).await, Err(CandleStoreError::NotHeld)));
        for already_held in [false, true] {
            let mut upload = store.begin().await.unwrap();
            for chunk in FILE.chunks(7) {
                upload.push(chunk).unwrap();
            }
            let summary = store.finish(upload).await.unwrap();
            let expected = Summary {
                id,
                candles: 2,
                first: Timestamp::from_millis(60_000),
                last: Timestamp::from_millis(120_000),
                size: u64::try_from(FILE.len()).unwrap(),
                already_held,
            };
            assert_eq!(summary, expected);
        }
        assert!(store.holds(id).await.unwrap());
        assert_eq!(store.load(id).await.unwrap(), candles::parse(FILE).unwrap());
        let names: Vec<String> = std::fs::read_dir(dir.path().join(DIRECTORY))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, [format!("{id}.candles")]);
    }

    #[tokio::test]
    async fn a_bad_file_is_refused_with_its_line_and_kept_nowhere() {
        let dir = tempfile::tempdir().unwrap();
        let store = CandleStore::open(dir.path(), 1 << 20).unwrap();
        for (file, expected) in [
            (
                &b"open_time_ms,open,high,low,close,volume\n60000,1,2,1,2,5\n60000,SECRET,2,1,1,0\n"[..],
                "line 3: open is not a number",
            ),
            (b"open_time_ms,open,high,low,close,volume\n", "the file holds no candles"),
        ] {
            let mut upload = store.begin().await.unwrap();
            upload.push(file).unwrap();
            let error = store.finish(upload).await.unwrap_err();
            assert_eq!(error.to_string(), expected);
        }
        assert_eq!(std::fs::read_dir(dir.path().join(DIRECTORY)).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn a_stored_file_that_changed_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let store = CandleStore::open(dir.path(), 1 << 20).unwrap();
        let mut upload = store.begin().await.unwrap();
        upload.push(FILE).unwrap();
        let id = store.finish(upload).await.unwrap().id;
        std::fs::write(store.path(id), b"open_time_ms,open,high,low,close,volume\n60000,1,1,1,1,1\n").unwrap();
        assert!(matches!(store.load(id).await, Err(CandleStoreError::Corrupt(_))));
        std::fs::write(dir.path().join(DIRECTORY).join("left.partial"), b"half").unwrap();
        let _reopened = CandleStore::open(dir.path(), 1 << 20).unwrap();
        assert!(!dir.path().join(DIRECTORY).join("left.partial").exists(), "half-written files are cleared");
    }
}
