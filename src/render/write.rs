//! What a write did to each object, for both generations: the result of one object and the
//! `N changed, M unchanged, K failed` line that ends a write of several.

use serde::Serialize;

/// What happened to one object in a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteResult {
    Changed,
    Unchanged,
    Failed,
    /// Not written: Ctrl-C came first.
    Interrupted,
}

/// `3 changed, 1 unchanged, 1 failed: models/x` for more than one object, from each object's
/// result and `namespace/name`.
pub fn summary(results: &[(WriteResult, String)]) -> Option<String> {
    if results.len() < 2 {
        return None;
    }
    let failed: Vec<&str> = results
        .iter()
        .filter(|(r, _)| *r == WriteResult::Failed)
        .map(|(_, who)| who.as_str())
        .collect();
    let count = |v: WriteResult| results.iter().filter(|(r, _)| *r == v).count();
    let (changed, unchanged) = (count(WriteResult::Changed), count(WriteResult::Unchanged));
    let interrupted = match count(WriteResult::Interrupted) {
        0 => String::new(),
        n => format!(", {n} not written (interrupted)"),
    };
    let names = if failed.is_empty() {
        String::new()
    } else {
        format!(": {}", failed.join(", "))
    };
    Some(format!(
        "{changed} changed, {unchanged} unchanged, {} failed{interrupted}{names}",
        failed.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(name: &str, result: WriteResult) -> (WriteResult, String) {
        (result, format!("models/{name}"))
    }

    #[test]
    fn the_summary_counts_each_result_and_names_the_failures() {
        assert_eq!(summary(&[of("a", WriteResult::Changed)]), None);
        let all = [
            of("a", WriteResult::Changed),
            of("b", WriteResult::Unchanged),
            of("c", WriteResult::Failed),
            of("d", WriteResult::Failed),
        ];
        assert_eq!(
            summary(&all).as_deref(),
            Some("1 changed, 1 unchanged, 2 failed: models/c, models/d")
        );
        let stopped = [
            of("a", WriteResult::Changed),
            of("b", WriteResult::Interrupted),
            of("c", WriteResult::Interrupted),
        ];
        assert_eq!(
            summary(&stopped).as_deref(),
            Some("1 changed, 0 unchanged, 0 failed, 2 not written (interrupted)")
        );
    }
}
