//! Cordial requests that wait out rate limits on the run's clock, and tidying the files
//! Cordial is done with.

use crate::cordial::{HttpRequest, HttpTransport, WaitOutRateLimits, send_json};
use crate::job::{JobError, RunContext};
use crate::ports::{Clock, Env, FileError, Files, Log};
use serde_json::Value;

/// Cordial as a scheduled run reaches it: each 429 is waited out on the run's clock and the
/// request sent again, rather than failing the run over one rate limit.
pub fn patient<'t>(
    http: &'t mut dyn HttpTransport,
    clock: &'t mut dyn Clock,
) -> impl HttpTransport + 't {
    WaitOutRateLimits::new(http, move |pause| clock.sleep(pause))
}

/// The Cordial REST base URL of the call, without a trailing slash (as
/// [`CordialClient`](crate::cordial::CordialClient) keeps it).
pub fn base_url(ctx: &RunContext) -> &str {
    ctx.cordial_base_url.trim_end_matches('/')
}

/// One Cordial request whose 2xx JSON answer is needed; a failure is a run error.
pub fn call_json(env: &mut Env<'_>, request: &HttpRequest) -> Result<Value, JobError> {
    send_json(&mut patient(&mut *env.http, &mut *env.clock), request)
        .map(|(_, value)| value)
        .map_err(|e| JobError::from_cordial(&e))
}

/// Removes `names` from the folder. A file already gone is fine (a run that died part-way
/// removed it); any other failure is only logged, as the records are safe either way.
pub fn remove_files(files: &mut dyn Files, log: &mut dyn Log, names: &[String]) {
    for name in names {
        match files.remove(name) {
            Ok(()) | Err(FileError::NotFound(_)) => {}
            Err(e) => log.log(
                crate::ports::Level::Warn,
                &format!("could not remove {name}: {e}"),
            ),
        }
    }
}
