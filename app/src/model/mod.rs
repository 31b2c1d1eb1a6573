//! Typed records shared by the browser and the server.

pub mod alerts;
pub mod audit;
pub mod duration;
pub mod ids;
pub mod input;
pub mod inventory;
pub mod roles;
pub mod rules;
pub mod silences;
pub mod user;
pub mod validate;
pub mod when;

pub use alerts::*;
pub use audit::*;
pub use ids::*;
pub use input::*;
pub use inventory::*;
pub use roles::*;
pub use rules::*;
pub use user::*;
