//! Text as the plugin shows what others said: an answer's or an error's first line, cut short.

/// The first non-empty line of `text`, trimmed, at most `max` characters, and whether it was
/// cut.
pub fn first_line(text: &str, max: usize) -> (String, bool) {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let cut: String = line.chars().take(max).collect();
    let more = line.chars().count() > max;
    (cut, more)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_that_says_something_cut_at_max_characters() {
        assert_eq!(first_line("\n  boom \nmore", 10), ("boom".into(), false));
        assert_eq!(first_line("ééé", 2), ("éé".into(), true));
        assert_eq!(first_line("", 5), (String::new(), false));
    }
}
