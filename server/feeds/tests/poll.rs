//! The pollers against the simulator's stand-ins of the external APIs, over loopback.
// Test code: a failed unwrap is a failed test with its location.
#![allow(clippy::unwrap_used)]

use std::{path::PathBuf, time::Duration};

use domain::feed::ExternalData;
use feeds::{Feeds, Settings, Source};
use mexc_sim::{External, Faults, SimConfig, Simulator};
use tokio::sync::watch;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

async fn next(data: &mut watch::Receiver<ExternalData>, until: impl Fn(&ExternalData) -> bool) -> ExternalData {
    tokio::time::timeout(Duration::from_secs(10), data.wait_for(|d| until(d))).await.unwrap().unwrap().clone()
}

#[tokio::test]
async fn readings_follow_the_sources_and_a_failing_source_keeps_its_last_reading() {
    let data_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../mexc-sim/data");
    let sim =
        Simulator::start(SimConfig::demo(&data_dir), tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).await;
    let base = sim.rest_url();
    let settings = Settings {
        poll_every: Duration::from_millis(50),
        sources: vec![
            Source::FearGreed { base_url: format!("{base}/alternative") },
            Source::CoinGeckoTrending { base_url: format!("{base}/coingecko/api/v3"), api_key: "demo-key".into() },
        ],
    };
    let (tracker, shutdown) = (TaskTracker::new(), CancellationToken::new());
    let mut data = Feeds::start(settings, &tracker, &shutdown);

    let first = next(&mut data, |d| d.fear_greed.is_some() && d.trending.is_some()).await;
    assert_eq!(first.fear_greed.as_ref().map(|f| (f.value, f.classification.as_str())), Some((47, "Neutral")));
    assert_eq!(first.trending_rank("CAH"), Some(1));

    sim.set_external(External { fear_greed: 12, trending: vec!["SOL".into(), "ETH".into()] });
    let moved = next(&mut data, |d| d.fear_greed.as_ref().is_some_and(|f| f.value == 12)).await;
    assert_eq!(moved.fear_greed.unwrap().classification, "Extreme Fear");
    let moved = next(&mut data, |d| d.trending_rank("ETH").is_some()).await;
    assert_eq!((moved.trending_rank("ETH"), moved.trending_rank("CAH")), (Some(2), None));

    // Every request fails: the last readings stay.
    sim.set_faults(Faults { error_5xx_rate: 1.0, ..Faults::default() });
    sim.set_external(External { fear_greed: 90, trending: vec![] });
    let before = sim.request_count();
    // Polled every 50 ms: five more requests must come, however slowly the machine runs them
    // (a generous bound turns a poller that stopped into a failure, not a hang).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while sim.request_count() <= before + 4 {
        assert!(tokio::time::Instant::now() < deadline, "the sources are asked again at every poll");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let kept = data.borrow().clone();
    assert_eq!((kept.fear_greed.as_ref().map(|f| f.value), kept.trending_rank("ETH")), (Some(12), Some(2)));

    // The sources answer again: each one's new reading arrives (each is polled on its own).
    sim.set_faults(Faults::default());
    let back = next(&mut data, |d| d.fear_greed.as_ref().is_some_and(|f| f.value == 90)).await;
    assert_eq!(back.fear_greed.unwrap().classification, "Extreme Greed");
    next(&mut data, |d| d.trending.as_ref().is_some_and(Vec::is_empty)).await;
    shutdown.cancel();
    tracker.close();
    tracker.wait().await;
}

#[tokio::test]
async fn with_no_source_the_snapshot_stays_open_and_quiet_until_shutdown() {
    let (tracker, shutdown) = (TaskTracker::new(), CancellationToken::new());
    let mut data = Feeds::start(Settings::default(), &tracker, &shutdown);
    let quiet = tokio::time::timeout(Duration::from_millis(200), data.changed()).await;
    assert!(quiet.is_err(), "no change, and no closed channel for a waiting bot to spin on: {quiet:?}");
    shutdown.cancel();
    assert!(data.changed().await.is_err(), "closed once the daemon stops");
    tracker.close();
    tracker.wait().await;
}
