//! How many scripts each HTTP caller may have running at once: one caller's endless
//! loops would otherwise take the server's cores from every other caller until the
//! wall-time limit ends them (review 47: 80 loops from a read-only token made another
//! caller's `return 1+1` wait 28 s).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Scripts a caller may run at once unless `--max-scripts-per-caller` says otherwise.
pub const DEFAULT_PER_CALLER: u64 = 4;

#[derive(Debug)]
pub struct ScriptQuota {
    per_caller: u64,
    running: Mutex<HashMap<String, u64>>,
}

/// One running script of a caller; its end frees the place.
#[derive(Debug)]
pub struct Place {
    quota: Arc<ScriptQuota>,
    subject: String,
}

impl ScriptQuota {
    pub fn new(per_caller: u64) -> Arc<Self> {
        Arc::new(Self { per_caller: per_caller.max(1), running: Mutex::default() })
    }

    /// A place for one more script of `subject`, or, when it has them all, what to tell it.
    pub fn take(self: &Arc<Self>, subject: &str) -> Result<Place, String> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let count = running.entry(subject.to_owned()).or_default();
        if *count >= self.per_caller {
            return Err(format!(
                "{count} scripts of this caller are running already, the most one caller may run at once on this server: wait for one to end (a script ends by its wall-time limit at most), or ask whoever runs the server to raise --max-scripts-per-caller"
            ));
        }
        *count += 1;
        Ok(Place { quota: self.clone(), subject: subject.to_owned() })
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut running = self.quota.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = running.get_mut(&self.subject) {
            *count -= 1;
            if *count == 0 {
                running.remove(&self.subject);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_gets_its_places_and_one_more_when_one_ends() {
        let quota = ScriptQuota::new(2);
        let first = quota.take("alice").unwrap();
        let _second = quota.take("alice").unwrap();
        assert!(quota.take("alice").unwrap_err().contains("2 scripts of this caller are running already"));
        assert!(quota.take("bob").is_ok(), "each caller has its own");
        drop(first);
        assert!(quota.take("alice").is_ok());
    }
}
