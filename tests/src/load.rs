//! The real-time load the benchmarks post: each contact enters an audience and then leaves
//! it, in webhook batches from several posters at once; afterwards no contact may still be
//! in a list, which checks per-contact order.

use crate::audience_events::{batch, default_payload};
use cordial_emulator::EmulatorHandle;

/// Events per webhook batch.
pub const BATCH: usize = 500;
/// Concurrent posters.
pub const POSTERS: usize = 4;

/// Posts an enter then an exit for `contacts` contacts (`<label>-<i>@example.com`) of
/// `audience` to `url`, with `headers`; every batch must be answered `202`.
pub async fn post_enter_exit(
    url: &str,
    headers: &[(&str, &str)],
    audience: &str,
    label: &str,
    contacts: usize,
) -> anyhow::Result<()> {
    let client = crate::http::client();
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut posters = tokio::task::JoinSet::new();
    for poster in 0..POSTERS {
        let (client, url, headers) = (client.clone(), url.to_owned(), headers.clone());
        let (audience, label) = (audience.to_owned(), label.to_owned());
        posters.spawn(async move {
            // Each batch holds whole contacts (enter then exit), so batches may race freely.
            let mut c = poster * (BATCH / 2);
            while c < contacts {
                let upto = (c + BATCH / 2).min(contacts);
                let mut items = Vec::with_capacity(2 * (upto - c));
                for i in c..upto {
                    let email = format!("{label}-{i}@example.com");
                    for (n, event) in ["enter", "exit"].into_iter().enumerate() {
                        let extra = r#","first_name":"Bench""#;
                        let id = (2 * i + n) as u64;
                        items.push(default_payload(id, &email, event, &audience, extra));
                    }
                }
                let mut request = client.post(&url).body(batch(&items));
                for (name, value) in &headers {
                    request = request.header(name, value);
                }
                let response = request.send().await?;
                let status = response.status();
                anyhow::ensure!(
                    status.as_u16() == 202,
                    "answered {status}: {}",
                    response.text().await.unwrap_or_default()
                );
                c += POSTERS * (BATCH / 2);
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = posters.join_next().await {
        done??;
    }
    Ok(())
}

/// How many of the contacts are missing or still in a list: each should have left.
pub fn out_of_order(emulator: &EmulatorHandle, label: &str, contacts: usize) -> usize {
    (0..contacts)
        .filter(|i| {
            let c = emulator.contact(&format!("email:{label}-{i}@example.com"));
            c.is_none_or(|c| c["lists"] != serde_json::json!([]))
        })
        .count()
}
