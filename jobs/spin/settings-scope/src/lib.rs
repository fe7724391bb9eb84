//! Between the job and Spin's variables: exports `wasi:config/store` with the job's settings
//! only, so the entry's variables (the webhook and run secrets among them) never reach the
//! job, and the job's check of its settings sees exactly what it would see in the bundled
//! host.
//!
//! It also exports the job's type-only interfaces (`types`, `outcomes`, `items`), which
//! the job and its entry both import and nothing on Spin provides: one definition of the
//! records they pass each other.

use cordial_spin_glue::config::store as spin;
use cordial_spin_glue::settings::is_job_setting;
use exports::wasi::config::store::{Error, Guest};

wit_bindgen::generate!({
    path: "../../../wit",
    inline: "
        package cordial:spin-scope;
        world settings-scope {
            import wasi:config/store@0.2.0-draft-2024-09-27;
            export wasi:config/store@0.2.0-draft-2024-09-27;
            export cordial:jobs/types@0.2.0;
            export cordial:jobs/outcomes@0.2.0;
            export cordial:jobs/items@0.2.0;
        }
    ",
    world: "cordial:spin-scope/settings-scope",
    with: {
        "wasi:config/store@0.2.0-draft-2024-09-27": cordial_spin_glue::config::store,
    },
    generate_all,
});

struct Scope;

impl Guest for Scope {
    fn get(key: String) -> Result<Option<String>, Error> {
        if !is_job_setting(&key) {
            return Ok(None);
        }
        spin::get(&key).map_err(error)
    }

    fn get_all() -> Result<Vec<(String, String)>, Error> {
        let all = spin::get_all().map_err(error)?;
        Ok(all.into_iter().filter(|(k, _)| is_job_setting(k)).collect())
    }
}

fn error(e: spin::Error) -> Error {
    match e {
        spin::Error::Upstream(m) => Error::Upstream(m),
        spin::Error::Io(m) => Error::Io(m),
    }
}

export!(Scope);
