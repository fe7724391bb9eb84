//! A lease in Spin's key-value store: who may do a thing, until when. It is taken by
//! compare-and-swap, so two Spin processes on one shared store never do the thing side by
//! side, and a lease whose process died runs out and is taken over.

use crate::keyvalue::atomics::{self, Cas, CasError};
use crate::keyvalue::store::Bucket;
use crate::kv;

/// A lease this process holds.
pub struct Lease<'a> {
    bucket: &'a Bucket,
    key: String,
    token: String,
}

impl<'a> Lease<'a> {
    /// Takes the lease under `key` when it is free or expired (`<until>:<random>`); `None`
    /// when another process holds it.
    pub fn take(
        bucket: &'a Bucket,
        key: String,
        now_ms: u64,
        lease_ms: u64,
    ) -> Result<Option<Lease<'a>>, String> {
        let cas = Cas::new(bucket, &key).map_err(kv::error("read the lease"))?;
        if kv::until(cas.current().map_err(kv::error("read the lease"))?) > now_ms {
            return Ok(None);
        }
        let token = format!("{}:{}", now_ms + lease_ms, kv::random_token());
        let lease = Lease { bucket, key, token };
        match atomics::swap(cas, lease.token.as_bytes()) {
            Ok(()) => Ok(Some(lease)),
            // Spin 4.1's Redis backend answers a swap that did happen as failed; the token
            // is unique, so reading it back says whose lease it is.
            Err(CasError::CasFailed(_)) => Ok(lease.still_ours()?.then_some(lease)),
            Err(CasError::StoreError(e)) => Err(kv::error("take the lease")(e)),
        }
    }

    fn still_ours(&self) -> Result<bool, String> {
        let current = self
            .bucket
            .get(&self.key)
            .map_err(kv::error("read the lease"))?;
        Ok(current.as_deref() == Some(self.token.as_bytes()))
    }

    /// Ends the lease if it is still ours (an expired one may have been taken over).
    pub fn give_back(self) {
        let Ok(cas) = Cas::new(self.bucket, &self.key) else {
            return;
        };
        if cas.current().ok().flatten().as_deref() == Some(self.token.as_bytes()) {
            let _ = atomics::swap(cas, b"0");
        }
    }
}
