//! Per-bot log files under `logs/{bot_id}/`, kept forever:
//! * `orders.log`: the order audit trail, one line per order event, with the decision behind
//!   every placed order;
//! * `fiscal.csv`: one row per sale (date, token, amount, buy price, sale price, gain), ready
//!   for a tax return.
//!
//! The database stays the record of truth; these files are for people and accountants.
//! They tell what the bot traded, so they are its owner's only: directories `0700`, files
//! `0600`, whatever the umask.

use std::path::{Path, PathBuf};

use domain::{
    bot::BotId,
    money::{Price, Qty, Quote},
    time::Timestamp,
};
use tokio::io::AsyncWriteExt;

use crate::clock::rfc3339;

/// Header of the fiscal CSV.
const FISCAL_HEADER: [&str; 6] = ["date", "token", "amount", "buy_price", "sale_price", "gain"];

/// One sale, as the fiscal log lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sale {
    /// When it executed.
    pub(crate) at: Timestamp,
    /// Base asset sold.
    pub(crate) token: String,
    /// Quantity sold.
    pub(crate) amount: Qty,
    /// Average cost of what was sold.
    pub(crate) buy_price: Price,
    /// Price sold at.
    pub(crate) sale_price: Price,
    /// Realised result (negative for a loss).
    pub(crate) gain: Quote,
}

/// Writes one bot's log files.
#[derive(Debug, Clone)]
pub(crate) struct Journal {
    dir: PathBuf,
}

/// Permissions of a log directory this module creates.
#[cfg(unix)]
const PRIVATE_DIR: u32 = 0o700;

/// Permissions of a log file this module creates.
#[cfg(unix)]
const PRIVATE_FILE: u32 = 0o600;

async fn append(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = tokio::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    options.mode(PRIVATE_FILE);
    let mut file = options.open(path).await?;
    file.write_all(bytes).await?;
    file.flush().await
}

impl Journal {
    /// The journal of `bot` under `logs_dir`.
    pub(crate) fn new(logs_dir: &Path, bot: BotId) -> Self {
        Self { dir: logs_dir.join(bot.0.to_string()) }
    }

    async fn write(&self, file: &str, bytes: &[u8]) {
        let path = self.dir.join(file);
        let mut dirs = tokio::fs::DirBuilder::new();
        dirs.recursive(true);
        #[cfg(unix)]
        dirs.mode(PRIVATE_DIR);
        let written = match dirs.create(&self.dir).await {
            Ok(()) => append(&path, bytes).await,
            Err(e) => Err(e),
        };
        if let Err(error) = written {
            tracing::error!(path = %path.display(), %error, "cannot write the bot's log");
        }
    }

    /// Appends a line to the audit trail.
    pub(crate) async fn audit(&self, at: Timestamp, line: &str) {
        self.write("orders.log", format!("{} {line}\n", rfc3339(at)).as_bytes()).await;
    }

    /// Appends a sale to the fiscal log, writing the header first in a new file.
    pub(crate) async fn sale(&self, sale: &Sale) {
        let new_file = !tokio::fs::try_exists(self.dir.join("fiscal.csv")).await.unwrap_or(false);
        let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        let row = [
            rfc3339(sale.at),
            sale.token.clone(),
            sale.amount.to_string(),
            sale.buy_price.to_string(),
            sale.sale_price.to_string(),
            sale.gain.to_string(),
        ];
        let written =
            if new_file { writer.write_record(FISCAL_HEADER) } else { Ok(()) }.and_then(|()| writer.write_record(&row));
        match written.map_err(|e| e.to_string()).and_then(|()| writer.into_inner().map_err(|e| e.to_string())) {
            Ok(bytes) => self.write("fiscal.csv", &bytes).await,
            Err(error) => tracing::error!(%error, "cannot format a fiscal log row"),
        }
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[tokio::test]
    async fn sales_append_to_a_csv_with_one_header_and_the_audit_trail_is_timestamped() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::new(dir.path(), BotId(3));
        let sale = Sale {
            at: Timestamp::from_millis(0),
            token: "BTC".into(),
            amount: Qty::new(dec!(0.5)),
            buy_price: Price::new(dec!(100)),
            sale_price: Price::new(dec!(110)),
            gain: Quote::new(dec!(5)),
        };
        journal.sale(&sale).await;
        journal.sale(&sale).await;
        journal.audit(Timestamp::from_millis(1_000), "tb-3-000001 placed").await;
        let csv = std::fs::read_to_string(dir.path().join("3/fiscal.csv")).unwrap();
        assert_eq!(
            csv,
            "date,token,amount,buy_price,sale_price,gain\n\
             1970-01-01T00:00:00.000Z,BTC,0.5,100,110,5\n1970-01-01T00:00:00.000Z,BTC,0.5,100,110,5\n"
        );
        let log = std::fs::read_to_string(dir.path().join("3/orders.log")).unwrap();
        assert_eq!(log, "1970-01-01T00:00:01.000Z tb-3-000001 placed\n");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn log_directories_and_files_are_their_owners_only() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        Journal::new(&logs, BotId(4)).audit(Timestamp::from_millis(0), "tb-4-000001 placed").await;
        assert_eq!(mode(&logs), 0o700);
        assert_eq!(mode(&logs.join("4")), 0o700);
        assert_eq!(mode(&logs.join("4/orders.log")), 0o600);
    }
}
