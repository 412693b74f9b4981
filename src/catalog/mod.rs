//! The action catalog: `actions/*.yaml` loaded, validated and indexed by id.

mod args;
mod filter_types;
mod load;
mod model;
mod typescript;

pub use args::{check_args, is_read_only_field, normalise_args, ArgsError, Problem, PAGING_ARGS};
pub(crate) use args::path_segment_problem;
pub use load::{load_builtin, load_dir, Catalog, CatalogError};
pub use model::{Action, Host, Method, Param, ParamLocation, ParamType};
pub use typescript::{action_signature, compact_signature, declarations};

/// The format of an action file, as `pingone-mcp actions format` prints it: a user
/// with the binary alone has no source tree to read it in.
pub const FILE_FORMAT: &str = include_str!("../../actions/README.md");
