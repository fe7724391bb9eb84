//! `wasi:config/store`: the job's settings, as the host config gives them (one value per
//! top-level setting; tables and lists as JSON text, see `cordial_jobs::settings::to_pairs`).
//! Read-only, fixed for the call.

use crate::runtime::bindings::config::store::{self, Error};
use wasmtime::component::{HasSelf, Linker};

/// The settings of one call.
pub struct ConfigCtx {
    pairs: Vec<(String, String)>,
}

impl ConfigCtx {
    pub fn new(pairs: Vec<(String, String)>) -> ConfigCtx {
        ConfigCtx { pairs }
    }
}

/// Per-call store data that carries a [`ConfigCtx`].
pub trait ConfigView: Send {
    fn config(&mut self) -> &mut ConfigCtx;
}

pub fn add_to_linker<T: ConfigView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    store::add_to_linker::<T, HasSelf<ConfigCtx>>(linker, |t| t.config())
}

impl store::Host for ConfigCtx {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, Error>> {
        Ok(Ok(self
            .pairs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())))
    }

    async fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, Error>> {
        Ok(Ok(self.pairs.clone()))
    }
}
