//! A platform embedding `cordial-host` as a library: it loads the real-time export job's
//! component, hands it its settings, a Cordial origin with the API key, and its own
//! in-memory key-value store, then delivers audience events. Cordial is the local emulator.
//!
//! Run (after `./dev build`): `cargo run -p cordial-host --example embed`

use cordial_host::capabilities::{Backends, KeyValueBackend};
use cordial_host::config::{AuthConfig, HostConfig, JobConfig, Secret, SecretSource};
use cordial_host::runtime::Runtime;
use cordial_jobs::realtime::Membership;
use cordial_jobs::realtime::job::AudienceEvent;
use cordial_jobs::settings::JobKind;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The platform's own state store: (job, key) → value, in memory.
#[derive(Default)]
struct MemoryState(Mutex<BTreeMap<(String, String), Vec<u8>>>);

impl KeyValueBackend for MemoryState {
    fn get(&self, job: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .get(&(job.into(), key.into()))
            .cloned())
    }
    fn set(&self, job: &str, key: &str, value: &[u8]) -> anyhow::Result<()> {
        let mut map = self.0.lock().unwrap();
        map.insert((job.into(), key.into()), value.to_vec());
        Ok(())
    }
    fn delete(&self, job: &str, key: &str) -> anyhow::Result<()> {
        self.0.lock().unwrap().remove(&(job.into(), key.into()));
        Ok(())
    }
    fn keys(&self, job: &str, after: Option<&str>, limit: u32) -> anyhow::Result<Vec<String>> {
        let map = self.0.lock().unwrap();
        let keys = map
            .keys()
            .filter(|(j, k)| j == job && Some(k.as_str()) > after);
        Ok(keys.take(limit as usize).map(|(_, k)| k.clone()).collect())
    }
}

fn event(event_id: u64, kind: Membership, email: &str) -> AudienceEvent {
    let user = json!({ "email": email, "first_name": "Ann" }).to_string();
    let audience = "vip_customers".into();
    AudienceEvent {
        event_id,
        audience,
        kind,
        user,
        occurred_at: None,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let key = "embed-demo-key";
    let cordial = cordial_emulator::start(cordial_emulator::EmulatorConfig {
        api_key: key.into(),
        seed: cordial_emulator::Seed::demo(),
        ..Default::default()
    })
    .await?;

    // The platform's side: one authorization, one job, its state store.
    let auth = AuthConfig::new(
        "cordial",
        &cordial.base_url(),
        SecretSource::Given(Secret::new(key)),
    );
    let settings =
        json!({ "audience": "vip_customers", "field_mapping": { "first_name": "first_name" } });
    let job = JobConfig::new("vip", JobKind::ExportRealtime, "cordial", settings);
    let components = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../jobs/target/wasm32-wasip2/release"
    );
    let config = HostConfig::for_platform(components, [auth], vec![job.clone()]);
    let state = Arc::new(MemoryState::default());
    let runtime = Runtime::for_platform(config, Backends::keyvalue_only(state.clone()))?;

    // The job checks its settings against the account, then takes events.
    let problems = runtime.validate(&job).await?;
    anyhow::ensure!(problems.is_empty(), "settings refused: {problems:?}");
    let events = [
        event(1, Membership::Enter, "ann@example.com"),
        event(2, Membership::Enter, "bob@example.com"),
        event(3, Membership::Exit, "ann@example.com"),
    ];
    let outcomes = runtime.deliver(&job, &events).await?;
    for (e, outcome) in events.iter().zip(&outcomes) {
        println!("event {} {:?} → {outcome:?}", e.event_id, e.kind);
    }
    for email in ["ann@example.com", "bob@example.com"] {
        let contact = cordial.handle().contact(&format!("email:{email}"));
        println!(
            "{email} in Cordial: lists {}",
            contact.map_or(json!(null), |c| c["lists"].clone())
        );
    }
    println!("state the job kept: {} keys", state.0.lock().unwrap().len());
    Ok(())
}
