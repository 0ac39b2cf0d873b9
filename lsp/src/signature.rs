//! Signature help: inside `days_between(a, |)` or `pagerduty(severity: high, |)`, the
//! function's or custom action's parameters, the one being written marked.

use rulec::schema::Schema;
use tower_lsp_server::ls_types::{
    Documentation, ParameterInformation, ParameterLabel, SignatureHelp, SignatureInformation,
};

use crate::keywords::FUNCTIONS;

/// The call whose arguments `before` (the item's text up to the cursor) ends inside:
/// its name and which argument the cursor is in. Strings are skipped, so a `(` or `,`
/// in text does not count.
fn open_call(before: &str) -> Option<(&str, usize)> {
    let bytes = before.as_bytes();
    let mut depth = 0usize;
    let mut commas = 0usize;
    let mut in_string = false;
    // Walk forward once to know which bytes are inside strings, then back from the end.
    let mut quoted = vec![false; bytes.len()];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_string => {
                quoted[i] = true;
                if i + 1 < bytes.len() {
                    quoted[i + 1] = true;
                }
                i += 2;
                continue;
            }
            b'"' => in_string = !in_string,
            _ => {}
        }
        quoted[i] = in_string;
        i += 1;
    }
    for at in (0..bytes.len()).rev() {
        if quoted[at] {
            continue;
        }
        match bytes[at] {
            b')' | b']' | b'}' => depth += 1,
            b'[' | b'{' if depth > 0 => depth -= 1,
            b'[' | b'{' => return None,
            b'(' if depth > 0 => depth -= 1,
            b'(' => {
                let head = before[..at].trim_end();
                let start = head
                    .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .map_or(0, |p| p + 1);
                let name = &head[start..];
                return (!name.is_empty()).then_some((name, commas));
            }
            b',' if depth == 0 => commas += 1,
            b'\n' if depth == 0 && before[at..].trim_start().starts_with("do") => return None,
            _ => {}
        }
    }
    None
}

/// A parameter's type as a declaration writes it (`select [low, high]`).
fn param_type(ty: &rulec::schema::Type) -> String {
    use rulec::schema::Type;
    match ty {
        Type::Select(set) => format!("select [{}]", set.options.join(", ")),
        Type::Status(set) => format!("status [{}]", set.options.join(", ")),
        other => crate::hover::type_text(other),
    }
}

/// Signature help at the end of `before`.
pub fn signature_help(schema: &Schema, before: &str) -> Option<SignatureHelp> {
    let (name, active) = open_call(before)?;
    let (label, params, doc) = if let Some(action) = schema.action(name) {
        let params: Vec<String> = action
            .params
            .iter()
            .map(|(n, t)| format!("{n}: {}", param_type(t)))
            .collect();
        let label = format!(
            "{name}({}){}",
            params.join(", "),
            if action.idempotent { " idempotent" } else { "" }
        );
        (
            label,
            params,
            "a custom action the host performs".to_string(),
        )
    } else {
        let keyword = FUNCTIONS.iter().find(|k| k.word == name)?;
        // The doc starts with the signature in backticks: `days_between(a, b) -> number`.
        let signature = keyword.doc.split('`').nth(1)?.to_string();
        let inside = signature.split_once('(')?.1.rsplit_once(')')?.0;
        let params: Vec<String> = inside
            .split(", ")
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        let doc = keyword
            .doc
            .splitn(3, '`')
            .nth(2)
            .map(|rest| rest.trim_start_matches(':').trim().to_string())
            .unwrap_or_default();
        (signature, params, doc)
    };
    // Each parameter as a range of the label, so clients underline it.
    let mut offsets = Vec::new();
    let mut from = label.find('(').map_or(0, |p| p + 1);
    for p in &params {
        let Some(at) = label[from..].find(p.as_str()) else {
            break;
        };
        let lo = (from + at) as u32;
        offsets.push(ParameterInformation {
            label: ParameterLabel::LabelOffsets([lo, lo + p.len() as u32]),
            documentation: None,
        });
        from += at + p.len();
    }
    Some(SignatureHelp {
        signatures: vec![SignatureInformation {
            label,
            documentation: (!doc.is_empty()).then_some(Documentation::String(doc)),
            parameters: Some(offsets),
            active_parameter: Some(active as u32),
        }],
        active_signature: Some(0),
        active_parameter: Some(active as u32),
    })
}

#[cfg(test)]
mod tests {
    use super::open_call;

    #[test]
    fn the_open_call_and_its_argument_are_found_past_strings_and_nesting() {
        assert_eq!(
            open_call("when x and days_between(a, "),
            Some(("days_between", 1))
        );
        assert_eq!(
            open_call("do pagerduty(severity: high"),
            Some(("pagerduty", 0))
        );
        assert_eq!(open_call("lower(\"a, (b\", "), Some(("lower", 1)));
        assert_eq!(open_call("coalesce(lower(a), "), Some(("coalesce", 1)));
        assert_eq!(open_call("lower(a) and "), None);
        assert_eq!(open_call("x in [a, "), None);
    }
}
