//! `cordial:jobs/state` → the job's rows in the SQLite store. A store failure traps the
//! call: a job must not carry on believing a checkpoint was saved when it was not.

use crate::runtime::RunState;
use crate::runtime::bindings::state::Host;

impl Host for RunState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
        self.store
            .state_get(&self.job, &key)
            .map_err(wasmtime::Error::from_anyhow)
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<()> {
        self.store
            .state_set(&self.job, &key, &value)
            .map_err(wasmtime::Error::from_anyhow)
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        self.store
            .state_delete(&self.job, &key)
            .map_err(wasmtime::Error::from_anyhow)
    }
}
