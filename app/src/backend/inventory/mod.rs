//! The inventory of what Prometheus scrapes. Every mutation checks the actor, validates, and
//! writes the row, its audit entry and the inventory generation in one transaction.

mod browse;
mod exporters;
mod farms;
pub(crate) use farms::insert_hosts;
mod projects;
mod rows;
mod services;
mod shards;
pub use shards::Registered;
mod urls;

use super::Db;
use super::cpu::Cpu;

#[derive(Clone)]
pub struct Inventory {
    db: Db,
    cpu: Cpu,
    /// The most hosts a farm may hold when hosts are added in the UI or the API.
    max_hosts_per_farm: usize,
}

/// The default of `--max-hosts-per-farm`.
pub const MAX_HOSTS_PER_FARM: usize = 5_000;

impl Inventory {
    pub fn new(db: Db, cpu: Cpu, max_hosts_per_farm: usize) -> Self {
        Inventory { db, cpu, max_hosts_per_farm }
    }
}
