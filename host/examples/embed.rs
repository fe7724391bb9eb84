//! A platform embedding `cordial-host`: it loads the real-time job's component with its
//! settings, a Cordial origin and key, and its own in-memory state store, then delivers
//! events to Cordial (the local emulator). `cargo run -p cordial-host --example embed`

use cordial_host::capabilities::{Backends, KeyValueBackend};
use cordial_host::config::{AuthConfig, HostConfig, JobConfig};
use cordial_host::runtime::Runtime;
use cordial_host::secret::{Secret, SecretSource};
use cordial_jobs::realtime::Membership;
use cordial_jobs::realtime::job::AudienceEvent;
use cordial_jobs::settings::JobKind;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The platform's own state store: (job, key) → value, in memory.
#[derive(Default)]
struct MemoryState(Mutex<BTreeMap<(String, String), Vec<u8>>>);

type Map<'a> = std::sync::MutexGuard<'a, BTreeMap<(String, String), Vec<u8>>>;

impl MemoryState {
    fn map(&self) -> Map<'_> {
        self.0.lock().unwrap()
    }
}

impl KeyValueBackend for MemoryState {
    fn get(&self, job: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.map().get(&(job.into(), key.into())).cloned())
    }
    fn set(&self, job: &str, key: &str, value: &[u8]) -> anyhow::Result<()> {
        self.map().insert((job.into(), key.into()), value.to_vec());
        Ok(())
    }
    fn delete(&self, job: &str, key: &str) -> anyhow::Result<()> {
        self.map().remove(&(job.into(), key.into()));
        Ok(())
    }
    fn keys(&self, job: &str, after: Option<&str>, limit: u32) -> anyhow::Result<Vec<String>> {
        let map = self.map();
        let mine = map
            .keys()
            .filter(|(j, k)| j == job && Some(k.as_str()) > after);
        Ok(mine.take(limit as usize).map(|(_, k)| k.clone()).collect())
    }
}

fn event(event_id: u64, kind: Membership, email: &str) -> AudienceEvent {
    let user = json!({ "email": email, "first_name": "Ann" }).to_string();
    let (audience, occurred_at) = ("vip_customers".into(), None);
    AudienceEvent {
        event_id,
        audience,
        kind,
        user,
        occurred_at,
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
    let api_key = SecretSource::Given(Secret::new(key));
    let auth = AuthConfig::new("cordial", &cordial.base_url(), api_key);
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
    anyhow::ensure!(problems.is_empty(), "{problems:?}");
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
        let lists = contact.map_or(json!(null), |c| c["lists"].clone());
        println!("{email} in Cordial: lists {lists}");
    }
    println!("state the job kept: {} keys", state.map().len());
    Ok(())
}
