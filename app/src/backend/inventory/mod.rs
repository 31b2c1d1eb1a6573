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

#[derive(Clone)]
pub struct Inventory {
    db: Db,
}

impl Inventory {
    pub fn new(db: Db) -> Self {
        Inventory { db }
    }
}
