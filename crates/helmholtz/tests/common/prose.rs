//! Whether an error message reads as prose: shared by the library's hostile-input tests and
//! the command line's catalogue of bad inputs.

/// `text` with its `quoted` and "quoted" parts (input echoed back) removed.
pub fn unquoted(text: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '`' || c == '"' => quote = Some(c),
            None => out.push(c),
        }
    }
    out
}

/// The first piece of a Rust `Debug` struct (`Error {`, `kind: `, …) or of a temporary file
/// name (`.tmp`) in `text` outside its quoted parts.
pub fn debug_text(text: &str) -> Option<&'static str> {
    let prose = unquoted(text);
    ["{ ", " }", "Error {", "Custom {", "kind: ", "Kind(", ".tmp"]
        .into_iter()
        .find(|d| prose.contains(d))
}
