//! The third switch of a Python component, beside `TRACING` and env: the YAML file it reads when
//! `JAEGER_CONFIG_PATH` is set. Where the file comes from in a pod ([`mount`]), what the Python
//! client makes of it ([`python`]), and the ConfigMap the plugin writes such files into
//! ([`plugin_map`]).

pub mod mount;
pub mod plugin_map;
pub mod python;

#[cfg(test)]
mod tests;
