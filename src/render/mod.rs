//! Pure rendering: rows and documents to strings. Nothing here prints. The engines every view
//! uses are `table` (kubectl columns), `document` (json/yaml) and `time` (AGE); the views are
//! in one wing per concern, as in `domain`: [`v1`], [`v2`], [`traces`].

pub mod document;
pub mod table;
pub mod time;
pub mod traces;
pub mod v1;
pub mod v2;
pub mod write;

pub use document::{OUTPUT_API_VERSION, Streamer, document, yaml};
pub use table::{table, table_paged};
pub use time::{age, parse_rfc3339};
