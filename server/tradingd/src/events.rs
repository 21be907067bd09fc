//! The event bus: every state change is published here and relayed to `WatchEvents`
//! (and from there to the gateway's `/ws`).

use domain::event::Event;
use tokio::sync::broadcast;

/// Events a slow subscriber may fall behind by before it is told it lagged.
const CAPACITY: usize = 4096;

/// Broadcasts domain events to every subscriber; cheap to clone.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self { sender: broadcast::channel(CAPACITY).0 }
    }
}

impl EventBus {
    /// Publishes an event; having no subscriber is fine.
    pub fn publish(&self, event: Event) {
        // An error only means nobody listens right now.
        let _ = self.sender.send(event);
    }

    /// A new subscription receiving every event published from now on.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}
